import type { MetadataStorage } from '@mikro-orm/core';
import { serializerMessageName } from '../checks/action-check';
import { fieldKindOf } from '../serializers/entity-properties';
import { FieldSpec, toSnakeCase } from '../serializers/field-spec';
import type { ProtoSerializerClass } from '../serializers/proto-serializer';
import type { SerializerSpec } from '../serializers/serializer-spec';
import { enumModel, FieldPatterns, nullableMessages, scalarOfKind, UnnumberedField, withNullAndPresence } from './field-types';
import { ModelServiceShape, modelServiceFile, seedRpcOptions } from './model-service';
import { numbered, TypeModel } from './proto-model';
import { writeProtoFile } from './proto-writer';

/** A serializer class as the generator reads it: its fields, and its entity when it has one. */
export interface SerializerLike {
  name: string;
  spec(): SerializerSpec;
  entity?: { name: string };
}

export interface SerializerProtoOptions extends FieldPatterns {
  packageName?: string;
  serviceName?: string;
  /** The List querying fields and `ListPage` (see `ProtoGenerationOptions.paged`). @default false */
  paged?: boolean;
  /**
   * Create and Update receive a `<Model>Write` message of the writable fields (write-only ones
   * included, plus the key), and `<Model>` holds only what is sent (no write-only field).
   * @default false: one message both ways, as the seed's protos; write-only fields are in it, marked
   */
  writeMessage?: boolean;
  /** Writes take an AIP-155 `request_id` (see `ModelRpcOptions.requestIds`). @default false */
  requestIds?: boolean;
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
  const shape = serializerShape(Serializer, metadata, options);
  const serviceName = options.serviceName ?? `${shape.model}Controller`;
  return writeProtoFile(
    modelServiceFile(
      shape,
      { ...seedRpcOptions(serviceName, options.paged ?? false), requestIds: options.requestIds },
      options.packageName ?? toSnakeCase(shape.model),
    ),
  );
}

/** The messages of a model service whose serializer is `Serializer` (see `generateProtoFromSerializer`). */
export function serializerShape(
  Serializer: SerializerLike,
  metadata: MetadataStorage,
  options: FieldPatterns & { writeMessage?: boolean } = {},
): ModelServiceShape {
  const model = messageNameOf(Serializer);
  const types = new SerializerTypes(metadata);
  const spec = Serializer.spec();
  const sent = options.writeMessage ? spec.readable : spec.fields;
  const key = spec.fields.find((field) => field.readOnly && field.property === primaryKeyOf(Serializer, metadata)) ?? spec.fields[0];
  const nullables = new Set<string>();
  // What a client writes gets presence and the null pattern as the options say; a key with a
  // nested alternative (`author_id` beside `author`) always has presence, or unset reads as 0.
  const written = (field: FieldSpec): UnnumberedField => {
    const proto = types.fieldOf(field, model);
    if (field.readOnly || field.serializer) return proto;
    const alternative = (spec.alternatives.get(field.property)?.length ?? 0) > 1;
    const facts = { nullable: field.nullable, required: field.required || alternative };
    return withNullAndPresence(proto, facts, alternative ? { ...options, presence: true } : options, nullables);
  };
  // With a write message, `<Model>` is only sent: its fields say nothing about writing.
  const sentOnly = !!options.writeMessage;
  const fields = sent.map((field) =>
    field === key
      ? types.fieldOf(field, model)
      : { ...(sentOnly ? types.fieldOf(field, model) : written(field)), comment: commentOf(field, spec, sentOnly) },
  );
  const keyField = { ...types.fieldOf(key, model), label: '' as const, comment: undefined };
  const writeFields = options.writeMessage
    ? [
        keyField,
        ...spec.writable.filter((field) => field !== key).map((field) => ({ ...written(field), comment: commentOf(field, spec, false) })),
      ]
    : undefined;
  return {
    model,
    fields: numbered(fields),
    writeFields: writeFields && numbered(writeFields),
    key: { ...keyField, number: 1 },
    types: [...types.defined, ...nullableMessages(nullables)],
  };
}

/** A serializer's message name: its entity's, else its own without `Serializer`. */
function messageNameOf(Serializer: SerializerLike): string {
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

/** The proto fields of serializer fields, and the messages and enums they need (each defined once). */
export class SerializerTypes {
  readonly defined: TypeModel[] = [];
  private readonly names = new Set<string>();

  constructor(private readonly metadata: MetadataStorage) {}

  /** The message of a serializer's fields, as a request (`writable`) or a response (`readable`) carries them. */
  messageOf(Serializer: SerializerLike, name: string, side: 'readable' | 'writable'): TypeModel {
    return { kind: 'message', name, fields: numbered(Serializer.spec()[side].map((field) => this.fieldOf(field, name))) };
  }

  fieldOf(field: FieldSpec, owner: string): UnnumberedField {
    const name = field.protoName;
    const optional = field.nullable ? 'optional' : '';
    if (field.serializer) {
      const nested = field.serializer as unknown as SerializerLike;
      const type = messageNameOf(nested);
      if (!this.names.has(type)) {
        this.names.add(type);
        // A writable nested message carries the nested serializer's write-only fields too.
        const inner = field.readOnly ? nested.spec().readable : nested.spec().fields;
        this.defined.push({ kind: 'message', name: type, fields: numbered(inner.map((f) => this.fieldOf(f, type))) });
      }
      return { name, type, label: field.kind === 'relations' ? 'repeated' : '' };
    }
    if (field.kind === 'relation' || field.kind === 'relations') {
      const target = field.target ? this.metadata.find(field.target.entityName) : undefined;
      const key = target?.properties[field.target!.primaryKey as keyof typeof target.properties];
      const type = key ? (scalarOfKind(fieldKindOf(key)) ?? 'int32') : 'int32';
      return { name, type, label: field.kind === 'relations' ? 'repeated' : optional };
    }
    if (field.kind === 'enum' && field.choices?.length) {
      const type = `${owner}${field.name.charAt(0).toUpperCase()}${field.name.slice(1)}`;
      if (!this.names.has(type)) {
        this.names.add(type);
        this.defined.push(enumModel(type, field.choices));
      }
      return { name, type, label: optional };
    }
    const type = scalarOfKind(field.kind) ?? 'string';
    return { name, type, label: type.startsWith('google.protobuf.') ? '' : optional };
  }
}
