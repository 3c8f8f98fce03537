import type { MetadataStorage } from '@mikro-orm/core';
import { fieldKindOf } from '../serializers/entity-properties';
import type { FieldSpec } from '../serializers/field-spec';
import type { SerializerSpec } from '../serializers/serializer-spec';
import { upperSnake } from '../proto/enum-names';
import { serializerMessageName } from '../checks/action-check';
import type { ProtoSerializerClass } from '../serializers/proto-serializer';
import {
  nullableDefinitions,
  ProtoField,
  ProtoGenerationOptions,
  scalarOfKind,
  withNullAndPresence,
  writeServiceProto,
} from './proto-generator';

/** A serializer class as the generator reads it: its fields, and its entity when it has one. */
export interface SerializerLike {
  name: string;
  spec(): SerializerSpec;
  entity?: { name: string };
}

export interface SerializerProtoOptions extends ProtoGenerationOptions {
  /**
   * Create and Update receive a `<Model>Write` message of the writable fields (write-only ones
   * included, plus the key), and `<Model>` holds only what is sent (no write-only field).
   * @default false: one message both ways, as the seed's protos; write-only fields are in it, marked
   */
  writeMessage?: boolean;
}

/**
 * Writes a model service's .proto from its serializer, so the messages carry what the
 * serializer sends and reads: nested serializers become messages of their own (their
 * serializer's readable fields), computed and other read-only fields are marked read-only,
 * write-only fields are marked (or, with `writeMessage`, kept out of the message that is sent).
 */
export function generateProtoFromSerializer(
  Serializer: SerializerLike,
  metadata: MetadataStorage,
  options: SerializerProtoOptions = {},
): string {
  const model = modelName(Serializer);
  const definitions: string[] = [];
  const defined = new Set<string>();
  const toField = (field: FieldSpec, owner: string) => protoFieldOf(field, owner, metadata, definitions, defined);
  const spec = Serializer.spec();
  const sent = options.writeMessage ? spec.readable : spec.fields;
  const key = spec.fields.find((field) => field.readOnly && field.property === primaryKeyOf(Serializer, metadata)) ?? spec.fields[0];
  const nullables = new Set<string>();
  // What a client writes gets presence and the null pattern as the options say; a key with a
  // nested alternative (`author_id` beside `author`) always has presence, or unset reads as 0.
  const written = (field: FieldSpec): ProtoField => {
    const proto = toField(field, model);
    if (field.readOnly || field.serializer) return proto;
    const alternative = (spec.alternatives.get(field.property)?.length ?? 0) > 1;
    const facts = { nullable: field.nullable, required: field.required || alternative };
    return withNullAndPresence(proto, facts, alternative ? { ...options, presence: true } : options, nullables);
  };
  // With a write message, `<Model>` is only sent: its fields say nothing about writing.
  const sentOnly = !!options.writeMessage;
  const fields = sent.map((field) =>
    field === key
      ? toField(field, model)
      : { ...(sentOnly ? toField(field, model) : written(field)), comment: commentOf(field, spec, sentOnly) },
  );
  const pkField = { ...toField(key, model), label: '' as const, comment: undefined };
  const writeFields = options.writeMessage
    ? [
        pkField,
        ...spec.writable.filter((field) => field !== key).map((field) => ({ ...written(field), comment: commentOf(field, spec, false) })),
      ]
    : undefined;
  return writeServiceProto(
    { model, fields, writeFields, pkField, definitions: [...definitions, ...nullableDefinitions(nullables)], usesNull: nullables.size > 0 },
    options,
  );
}

function modelName(Serializer: SerializerLike): string {
  return serializerMessageName(Serializer as unknown as ProtoSerializerClass);
}

function primaryKeyOf(Serializer: SerializerLike, metadata: MetadataStorage): string | undefined {
  return Serializer.entity ? metadata.find(Serializer.entity.name)?.primaryKeys[0] : undefined;
}

/** What a reader of the .proto should know about a field the serializer does not read and write alike. */
function commentOf(field: FieldSpec, spec: SerializerSpec, sentOnly: boolean): string | undefined {
  if (field.computed) return 'Read-only: computed by the server.';
  if (field.writeOnly) return 'Write-only: read on Create and Update, never sent back.';
  if (sentOnly) return field.serializer ? 'Read-only: sent by the server.' : field.readOnly ? 'Read-only.' : undefined;
  const others = (spec.alternatives.get(field.property) ?? []).filter((other) => other !== field).map((other) => other.protoName);
  if (field.serializer && !field.readOnly) {
    const also = others.length ? ` Send this or ${others.join(' or ')}, not both.` : '';
    return field.kind === 'relations'
      ? `Written on Create only: each is created with this object.${also}`
      : `Writable: created with this object on Create, updated in place on Update.${also}`;
  }
  if (field.serializer) return 'Read-only: sent by the server.';
  if (field.readOnly) return 'Read-only.';
  if (others.length) return `Send this or ${others.join(' or ')}, not both.`;
  return undefined;
}

function protoFieldOf(field: FieldSpec, owner: string, metadata: MetadataStorage, definitions: string[], defined: Set<string>): ProtoField {
  const name = field.protoName;
  const optional = field.nullable ? 'optional ' : '';
  if (field.serializer) {
    const nested = field.serializer as unknown as SerializerLike;
    const type = modelName(nested);
    if (!defined.has(type)) {
      defined.add(type);
      // A writable nested message carries the nested serializer's write-only fields too.
      const message = (field.readOnly ? nested.spec().readable : nested.spec().fields).map((inner, i) => {
        const f = protoFieldOf(inner, type, metadata, definitions, defined);
        return `    ${f.label}${f.type} ${f.name} = ${i + 1};`;
      });
      definitions.push(`message ${type} {`, ...message, '}', '');
    }
    return { name, type, label: field.kind === 'relations' ? 'repeated ' : '' };
  }
  if (field.kind === 'relation' || field.kind === 'relations') {
    const target = field.target ? metadata.find(field.target.entityName) : undefined;
    const key = target?.properties[field.target!.primaryKey as keyof typeof target.properties];
    const type = key ? (scalarOfKind(fieldKindOf(key)) ?? 'int32') : 'int32';
    return { name, type, label: field.kind === 'relations' ? 'repeated ' : optional };
  }
  if (field.kind === 'enum' && field.choices?.length) {
    const type = `${owner}${field.name.charAt(0).toUpperCase()}${field.name.slice(1)}`;
    if (!defined.has(type)) {
      defined.add(type);
      const prefix = upperSnake(type);
      definitions.push(
        `enum ${type} {`,
        `    ${prefix}_UNSPECIFIED = 0;`,
        ...field.choices.map((choice, i) => `    ${prefix}_${upperSnake(choice)} = ${i + 1};`),
        '}',
        '',
      );
    }
    return { name, type, label: optional };
  }
  const type = scalarOfKind(field.kind) ?? 'string';
  return { name, type, label: type.startsWith('google.protobuf.') ? '' : optional };
}
