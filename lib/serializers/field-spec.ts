import type { TransformFn } from './class-transformer-decorations';
import type { ProtoSerializerClass } from './proto-serializer';

/** What a serializer field holds; decides coercion, validation and the proto type generated for it. */
export type FieldKind =
  | 'string'
  | 'text'
  | 'integer'
  | 'bigint'
  | 'float'
  | 'decimal'
  | 'boolean'
  | 'date'
  | 'json'
  | 'enum'
  | 'bytes'
  | 'relation'
  | 'relations'
  | 'any';

/**
 * Options of one serializer field. For a `ModelProtoSerializer` they are derived from the
 * entity and can be adjusted with the `fieldOptions` option; for a `ProtoSerializer` they
 * are given with `@ProtoField()`.
 */
export interface FieldOptions {
  /** @default 'any' (no coercion) for `@ProtoField()`; derived from the entity for model serializers */
  kind?: FieldKind;
  /** The message field name. @default the property name in snake_case */
  protoName?: string;
  /** Sent to clients but ignored when a client sends it. @default false (true for primary keys and generated columns) */
  readOnly?: boolean;
  /** Read from messages and validated, never sent (a password); nor echoed in error details. @default false */
  writeOnly?: boolean;
  /**
   * The property the field reads and writes, when it is not the field's own name (`authorId`
   * writing `author`), or a dotted path read through relations (`author.name`), which makes the
   * field read-only. @default the field's name
   */
  source?: string;
  /**
   * Sends the related object (or, for a collection, each one) as this serializer's message
   * instead of its key: `{ author: { serializer: AuthorSerializer } }`. Read-only unless
   * `readOnly: false` (or class-validator's `@ValidateNested()`) makes it a writable nested
   * object: a message there creates the related object with the parent (a to-one relation is
   * updated in place on Update), all or nothing. Write the relation by key through another field
   * with the same `source` (`authorId: { source: 'author' }`).
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  serializer?: ProtoSerializerClass<any>;
  /** Set by `@ComputedField`: the value comes from the serializer's method of the field's name, per object or per batch. @internal */
  computed?: 'each' | 'batch';
  /** Set from class-transformer's `@Transform()`: conversions on the way to the message and from it. @internal */
  transforms?: FieldTransforms;
  /** Must be present when creating. @default true unless nullable, defaulted or read-only */
  required?: boolean;
  /** `null` is accepted and stored. @default false */
  nullable?: boolean;
  /** Strings: the empty string is accepted. @default false (true when the entity default is '') */
  allowBlank?: boolean;
  /** Strings: surrounding whitespace is removed before validation. @default true */
  trim?: boolean;
  /**
   * Strings: the most characters (Unicode code points) allowed; bytes: the most bytes.
   * @default the entity column's length; 262,144 characters for text without one, 1 MiB for bytes
   */
  maxLength?: number;
  /** Strings: the fewest characters allowed. */
  minLength?: number;
  /** Enums: the accepted values. */
  choices?: readonly (string | number)[];
  /** Decimals: the digits after the point; more are refused, and values are sent with exactly this many. @default the column's scale */
  scale?: number;
  /** Lists of related ids: the most ids accepted. @default 1000 */
  maxItems?: number;
}

/** The largest text of a string column without a length, in characters (at most 1 MiB of UTF-8). */
export const DEFAULT_MAX_TEXT_LENGTH = 262_144;
/** The largest value of a bytes column, in bytes. */
export const DEFAULT_MAX_BYTES_LENGTH = 1024 * 1024;
/** The most related ids a list field accepts (each becomes a query parameter). */
export const DEFAULT_MAX_ITEMS = 1000;

/** class-transformer `@Transform()` functions of a field, by direction. */
export interface FieldTransforms {
  toMessage: readonly TransformFn[];
  fromMessage: readonly TransformFn[];
}

/** A resolved field: every option known. */
export interface FieldSpec {
  /** The field's name: the key of `fields` and `fieldOptions`, and of outgoing data. */
  name: string;
  /** The entity (or instance) property the field writes, and reads unless `path` says otherwise: the key of validated data. */
  property: string;
  /** For a dotted `source`: the properties read one after another (`['author', 'name']`). */
  path?: readonly string[];
  writeOnly: boolean;
  /** The serializer of a nested object (or of each object of a nested list). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  serializer?: ProtoSerializerClass<any>;
  /** Set by `@ComputedField`: the value comes from the serializer's method of the field's name, per object or per batch. @internal */
  computed?: 'each' | 'batch';
  /** Set from class-transformer's `@Transform()`: conversions on the way to the message and from it. @internal */
  transforms?: FieldTransforms;
  protoName: string;
  kind: FieldKind;
  readOnly: boolean;
  required: boolean;
  nullable: boolean;
  allowBlank: boolean;
  trim: boolean;
  maxLength?: number;
  minLength?: number;
  choices?: readonly (string | number)[];
  scale?: number;
  maxItems?: number;
  unique: boolean;
  /**
   * For `relation`/`relations`: the related entity's name and primary key property, and for a
   * one-to-many collection the property of the related entity that points back.
   */
  target?: { entityName: string; primaryKey: string; mappedBy?: string };
}

export function toSnakeCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1_$2')
    .toLowerCase();
}

/**
 * A field's spec from its options over what its property tells (`base`). `name` is the field's
 * name; its property is `options.source` (or its first segment), else the name.
 */
export function resolveFieldSpec(name: string, options: FieldOptions, base?: Partial<FieldSpec>): FieldSpec {
  const path = options.source?.includes('.') ? options.source.split('.') : undefined;
  // A nested object is read-only unless it says otherwise (a writable nested object).
  const nestedReadOnly = !!options.serializer && options.readOnly !== false;
  const readOnly = !!path || nestedReadOnly || !!options.computed || (options.readOnly ?? base?.readOnly ?? false);
  const writeOnly = options.writeOnly ?? false;
  if (readOnly && writeOnly) {
    throw new Error(
      `field "${name}" cannot be both read-only and write-only${path ? ` (a dotted source, ${options.source}, is read-only)` : ''}.`,
    );
  }
  const nullable = options.nullable ?? base?.nullable ?? false;
  return {
    name,
    property: path ? path[0] : (options.source ?? name),
    ...(path ? { path } : {}),
    ...(options.serializer ? { serializer: options.serializer } : {}),
    ...(options.computed ? { computed: options.computed } : {}),
    ...(options.transforms ? { transforms: options.transforms } : {}),
    writeOnly,
    protoName: options.protoName ?? toSnakeCase(name),
    kind: options.kind ?? base?.kind ?? 'any',
    readOnly,
    nullable,
    required: options.required ?? base?.required ?? (!readOnly && !nullable),
    allowBlank: options.allowBlank ?? base?.allowBlank ?? false,
    trim: options.trim ?? base?.trim ?? true,
    maxLength: options.maxLength ?? base?.maxLength,
    minLength: options.minLength ?? base?.minLength,
    choices: options.choices ?? base?.choices,
    scale: options.scale ?? base?.scale,
    maxItems: options.maxItems ?? base?.maxItems,
    unique: base?.unique ?? false,
    target: base?.target,
  };
}
