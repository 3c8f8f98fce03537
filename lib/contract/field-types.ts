import { upperSnake } from '../proto/enum-names';
import { FIELD_KINDS } from '../serializers/field-kinds';
import type { FieldKind } from '../serializers/field-spec';
import type { EnumModel, FieldModel, MessageModel } from './proto-model';

/** A field before it is numbered. */
export type UnnumberedField = Omit<FieldModel, 'number'>;

/** How generated messages treat what a client writes. */
export interface FieldPatterns {
  /**
   * Fields a Create must send get proto3 presence (`optional`), so one left out is refused as
   * "This field is required." instead of being read as proto3's zero value (0, '', false).
   * @default false (the tutorial's protos are reproduced as they are)
   */
  presence?: boolean;
  /**
   * Nullable scalars use the seed's null pattern, a message with a oneof of the value and
   * `google.protobuf.NullValue` (`NullableString`), so a client can set them back to null;
   * with `optional` alone, leaving a field out means "unchanged". @default false
   */
  nullOneof?: boolean;
}

/** The proto scalar of a field kind (its `FIELD_KINDS` entry's `protoType`). */
export function scalarOfKind(kind: FieldKind): string | undefined {
  return FIELD_KINDS[kind].protoType;
}

export const WRAPPER_OF_SCALAR: Readonly<Record<string, string>> = {
  string: 'google.protobuf.StringValue',
  int32: 'google.protobuf.Int32Value',
  int64: 'google.protobuf.Int64Value',
  double: 'google.protobuf.DoubleValue',
  bool: 'google.protobuf.BoolValue',
  bytes: 'google.protobuf.BytesValue',
};

/** `enum GadgetColor { GADGET_COLOR_UNSPECIFIED = 0; GADGET_COLOR_RED = 1; ... }`, buf's naming rules. */
export function enumModel(name: string, items: readonly (string | number)[]): EnumModel {
  const prefix = upperSnake(name);
  return {
    kind: 'enum',
    name,
    values: [
      { name: `${prefix}_UNSPECIFIED`, number: 0 },
      ...items.map((item, i) => ({ name: `${prefix}_${upperSnake(item)}`, number: i + 1 })),
    ],
  };
}

/** What `presence` and `nullOneof` look at in a written field. */
export interface WrittenFieldFacts {
  /** It may be set to null (never for a key). */
  nullable: boolean;
  /** A Create must send it. */
  required: boolean;
}

/**
 * A field with `presence` and `nullOneof` applied (see `FieldPatterns`); the null messages it
 * needs are added to `nullables` (`nullableMessages` writes them).
 */
export function withNullAndPresence(
  field: UnnumberedField,
  facts: WrittenFieldFacts,
  patterns: FieldPatterns,
  nullables: Set<string>,
): UnnumberedField {
  const scalar = !field.type.startsWith('google.protobuf.') && field.label !== 'repeated';
  if (patterns.nullOneof && facts.nullable && scalar) {
    nullables.add(field.type);
    return { name: field.name, type: nullableTypeName(field.type), label: '' };
  }
  if (patterns.presence && field.label === '' && scalar && facts.required) return { ...field, label: 'optional' };
  return field;
}

/** The null-pattern messages of the types in `nullables`. */
export function nullableMessages(nullables: ReadonlySet<string>): MessageModel[] {
  return [...nullables].map(nullableMessage);
}

/** `string` -> `NullableString`, `int32` -> `NullableInt32`, `GadgetColor` -> `NullableGadgetColor`. */
function nullableTypeName(type: string): string {
  return `Nullable${type.charAt(0).toUpperCase()}${type.slice(1)}`;
}

/** The seed's null pattern for one type: `message NullableString { oneof kind { string value = 1; google.protobuf.NullValue null = 2; } }`. */
function nullableMessage(type: string): MessageModel {
  return {
    kind: 'message',
    name: nullableTypeName(type),
    fields: [
      { name: 'value', type, label: '', number: 1, oneof: 'kind' },
      { name: 'null', type: 'google.protobuf.NullValue', label: '', number: 2, oneof: 'kind' },
    ],
  };
}
