import * as protobuf from 'protobufjs';
import { nullableShape } from '../proto/message-codec';
import type { ServiceDefinition } from '../proto/proto-registry';
import type { FieldKind, FieldSpec } from '../serializers/field-spec';
import type { SerializerSpec } from '../serializers/serializer-spec';

const INTEGERS = ['int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64', 'fixed32', 'fixed64', 'sfixed32', 'sfixed64'];
const WRAPPED = (scalars: string[]) => scalars.map((s) => `.google.protobuf.${s}Value`);

/** Proto types a field of each kind can travel as (scalars by name, messages by full name). */
const COMPATIBLE: Readonly<Record<FieldKind, readonly string[] | undefined>> = {
  string: ['string', ...WRAPPED(['String'])],
  text: ['string', ...WRAPPED(['String'])],
  integer: [...INTEGERS, 'double', 'float', ...WRAPPED(['Int32', 'Int64', 'UInt32', 'UInt64'])],
  bigint: ['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64', 'string', ...WRAPPED(['Int64', 'UInt64', 'String'])],
  float: ['double', 'float', ...WRAPPED(['Double', 'Float'])],
  decimal: ['string', 'double', ...WRAPPED(['String', 'Double'])],
  boolean: ['bool', ...WRAPPED(['Bool'])],
  date: ['.google.protobuf.Timestamp', 'string'],
  json: ['.google.protobuf.Struct', '.google.protobuf.Value', 'string'],
  enum: undefined, // a proto enum or a string
  bytes: ['bytes', ...WRAPPED(['Bytes'])],
  relation: [...INTEGERS, 'string'],
  relations: [...INTEGERS, 'string'],
  any: undefined,
};

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
  const message = rpc.response.type;
  const where = `${className} (${definition.name}${definition.file ? `, ${definition.file}` : ''})`;
  for (const field of spec.readable) {
    const protoField = message.fields[field.protoName];
    if (!protoField) {
      problems.push(
        `${where}: serializer ${serializerName} field "${field.protoName}" is not in message ${message.fullName.slice(1)}. ` +
          `Add it to the message or leave it out of the serializer's fields.`,
      );
      continue;
    }
    const problem = incompatibility(field, protoField);
    if (problem) problems.push(`${where}: serializer ${serializerName} field "${field.protoName}": ${problem}`);
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
  if (resolved instanceof protobuf.Enum) return field.kind === 'enum' || field.kind === 'any' ? undefined : `${field.kind} cannot travel as enum ${type}.`;
  if (resolved instanceof protobuf.Type && nullableShape(resolved)) return undefined;
  const allowed = COMPATIBLE[field.kind];
  if (!allowed || allowed.includes(type)) return undefined;
  return `a ${field.kind} property cannot travel as ${type.replace(/^\./, '')} (use ${allowed.map((t) => t.replace(/^\./, '')).join(' or ')}).`;
}
