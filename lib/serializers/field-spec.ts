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
  /** Lists of related ids: the most ids accepted. @default 1000 */
  maxItems?: number;
}

/** The largest text of a string column without a length, in characters (at most 1 MiB of UTF-8). */
export const DEFAULT_MAX_TEXT_LENGTH = 262_144;
/** The largest value of a bytes column, in bytes. */
export const DEFAULT_MAX_BYTES_LENGTH = 1024 * 1024;
/** The most related ids a list field accepts (each becomes a query parameter). */
export const DEFAULT_MAX_ITEMS = 1000;

/** A resolved field: every option known. */
export interface FieldSpec {
  property: string;
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
  maxItems?: number;
  unique: boolean;
  /** For `relation`/`relations`: the related entity's name and primary key property. */
  target?: { entityName: string; primaryKey: string };
}

export function toSnakeCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1_$2')
    .toLowerCase();
}

export function resolveFieldSpec(property: string, options: FieldOptions, base?: Partial<FieldSpec>): FieldSpec {
  const readOnly = options.readOnly ?? base?.readOnly ?? false;
  const nullable = options.nullable ?? base?.nullable ?? false;
  return {
    property,
    protoName: options.protoName ?? base?.protoName ?? toSnakeCase(property),
    kind: options.kind ?? base?.kind ?? 'any',
    readOnly,
    nullable,
    required: options.required ?? base?.required ?? (!readOnly && !nullable),
    allowBlank: options.allowBlank ?? base?.allowBlank ?? false,
    trim: options.trim ?? base?.trim ?? true,
    maxLength: options.maxLength ?? base?.maxLength,
    minLength: options.minLength ?? base?.minLength,
    choices: options.choices ?? base?.choices,
    maxItems: options.maxItems ?? base?.maxItems,
    unique: base?.unique ?? false,
    target: base?.target,
  };
}
