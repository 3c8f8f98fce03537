import * as protobuf from 'protobufjs';
import { nullableShape } from '../proto/message-codec';
import type { ServiceDefinition } from '../proto/proto-registry';
import { FIELD_KINDS } from '../serializers/field-kinds';
import type { FieldSpec } from '../serializers/field-spec';
import type { SerializerSpec } from '../serializers/serializer-spec';

/**
 * Checks a serializer against the message its service sends (the Retrieve/Create response):
 * every readable field exists there with a compatible type.
 */
export function checkSerializerAgainstProto(
  className: string,
  serializerName: string,
  spec: SerializerSpec,
  definition: ServiceDefinition,
  problems: string[],
): void {
  const rpc = definition.rpcs.find((r) => r.name === 'Retrieve') ?? definition.rpcs.find((r) => r.name === 'Create');
  if (!rpc) return;
  const where = `${className} (${definition.name}${definition.file ? `, ${definition.file}` : ''})`;
  checkSerializerFields(where, serializerName, spec, rpc.response.type, problems);
  checkWriteOnlyFields(where, serializerName, spec, definition, problems);
}

/**
 * Every field a serializer sends (`readable`) or reads (`writable`) exists in `message` with a
 * compatible type; nested serializers against their fields' messages.
 */
export function checkSerializerFields(
  where: string,
  serializerName: string,
  spec: SerializerSpec,
  message: protobuf.Type,
  problems: string[],
  side: 'readable' | 'writable' = 'readable',
  prefix = '',
): void {
  for (const field of spec[side]) {
    const name = `${prefix}${field.protoName}`;
    const protoField = message.fields[field.protoName];
    if (!protoField) {
      problems.push(
        `${where}: serializer ${serializerName} field "${name}" is not in message ${message.fullName.slice(1)}. ` +
          `Add it to the message or leave it out of the serializer's fields.`,
      );
      continue;
    }
    if (field.serializer) {
      checkNestedField(where, serializerName, field, protoField, problems, side, name);
      continue;
    }
    const problem = incompatibility(field, protoField);
    if (problem) problems.push(`${where}: serializer ${serializerName} field "${name}": ${problem}`);
  }
}

/** A nested serializer's field is a message field (repeated for a collection) whose type its serializer's fields fit. */
function checkNestedField(
  where: string,
  serializerName: string,
  field: FieldSpec,
  protoField: protobuf.Field,
  problems: string[],
  side: 'readable' | 'writable',
  name: string,
): void {
  protoField.resolve();
  const type = protoField.resolvedType;
  const many = field.kind === 'relations';
  if (!(type instanceof protobuf.Type) || many !== protoField.repeated) {
    const expected = `${many ? 'repeated ' : ''}a message ${field.serializer!.name} fills`;
    problems.push(
      `${where}: serializer ${serializerName} field "${name}" is nested: the proto field must be ${expected}, found ${protoField.repeated ? 'repeated ' : ''}${protoField.type}.`,
    );
    return;
  }
  checkSerializerFields(where, serializerName, field.serializer!.spec(), type, problems, side, `${name}.`);
}

/**
 * A write-only field must be where clients send it (the messages Create and Update receive) and
 * must not be declared in a message the service only sends: clients would expect it back.
 */
function checkWriteOnlyFields(
  where: string,
  serializerName: string,
  spec: SerializerSpec,
  definition: ServiceDefinition,
  problems: string[],
): void {
  const writeOnly = spec.writable.filter((field) => field.writeOnly);
  if (!writeOnly.length) return;
  const received = new Set(definition.rpcs.map((rpc) => rpc.request.type));
  const sentOnly = [...new Set(definition.rpcs.map((rpc) => rpc.response.type))].filter((type) => !received.has(type));
  const writes = definition.rpcs.filter((rpc) => rpc.name === 'Create' || rpc.name === 'Update');
  for (const field of writeOnly) {
    for (const type of sentOnly) {
      if (type.fields[field.protoName]) {
        problems.push(
          `${where}: serializer ${serializerName} field "${field.protoName}" is write-only, but ${type.fullName.slice(1)}, which the service only sends, declares it: ` +
            'take it out of that message (clients would expect it back).',
        );
      }
    }
    for (const rpc of writes) {
      if (!rpc.request.type.fields[field.protoName]) {
        problems.push(
          `${where}: serializer ${serializerName} field "${field.protoName}" is write-only but ${rpc.request.type.fullName.slice(1)}, which ${rpc.name} receives, does not declare it.`,
        );
      }
    }
  }
}

function incompatibility(field: FieldSpec, protoField: protobuf.Field): string | undefined {
  protoField.resolve();
  const resolved = protoField.resolvedType;
  const type = resolved ? resolved.fullName : protoField.type;
  const many = field.kind === 'relations';
  if (many !== protoField.repeated) {
    return many ? `a list of ids needs a repeated field, found ${type}.` : `expected a single value, found repeated ${type}.`;
  }
  if (resolved instanceof protobuf.Enum)
    return field.kind === 'enum' || field.kind === 'any' ? undefined : `${field.kind} cannot travel as enum ${type}.`;
  if (resolved instanceof protobuf.Type && nullableShape(resolved)) return undefined;
  const allowed = FIELD_KINDS[field.kind].travelsAs;
  if (!allowed || allowed.includes(type)) return undefined;
  return `a ${field.kind} property cannot travel as ${type.replace(/^\./, '')} (use ${allowed.map((t) => t.replace(/^\./, '')).join(' or ')}).`;
}
