import { ScalarType } from '@bufbuild/protobuf';
import type { DescField, DescMessage, JsonValue } from '@bufbuild/protobuf';

const INTEGER_TYPES = new Set([
  ScalarType.INT32,
  ScalarType.UINT32,
  ScalarType.SINT32,
  ScalarType.FIXED32,
  ScalarType.SFIXED32,
  ScalarType.INT64,
  ScalarType.UINT64,
  ScalarType.SINT64,
  ScalarType.FIXED64,
  ScalarType.SFIXED64,
]);

const INTEGER_WRAPPERS = new Set([
  'google.protobuf.Int32Value',
  'google.protobuf.UInt32Value',
  'google.protobuf.Int64Value',
  'google.protobuf.UInt64Value',
]);

/** A decimal number as proto3's JSON mapping writes integers in strings: digits, optionally with a fraction or exponent that leave a whole number. */
const DECIMAL = /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/;

/**
 * The first integer field, by its JSON path, whose JSON string is not a decimal number, such as
 * `"0x1"`, `"0b1"` or `" 1"`. Proto3's JSON mapping takes integers in strings as decimal only,
 * but @bufbuild/protobuf reads them with `Number()` (hexadecimal, binary and octal included),
 * so `/v1/books/0x1` would otherwise be book 1.
 */
export function nonDecimalInteger(desc: DescMessage, json: JsonValue, path = ''): string | undefined {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return undefined;
  for (const [key, value] of Object.entries(json)) {
    const field = desc.fields.find((f) => f.jsonName === key || f.name === key);
    if (!field || value === null) continue;
    const found = fieldValue(field, value, path ? `${path}.${key}` : key);
    if (found) return found;
  }
  return undefined;
}

function fieldValue(field: DescField, value: JsonValue, path: string): string | undefined {
  switch (field.fieldKind) {
    case 'scalar':
      return INTEGER_TYPES.has(field.scalar) ? integerText(value, path) : undefined;
    case 'message':
      return messageValue(field.message, value, path);
    case 'list':
      if (!Array.isArray(value)) return undefined;
      for (const [i, item] of value.entries()) {
        const found =
          field.listKind === 'scalar'
            ? INTEGER_TYPES.has(field.scalar)
              ? integerText(item, `${path}[${i}]`)
              : undefined
            : field.listKind === 'message'
              ? messageValue(field.message, item, `${path}[${i}]`)
              : undefined;
        if (found) return found;
      }
      return undefined;
    case 'map':
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
      for (const [key, item] of Object.entries(value)) {
        const found =
          (INTEGER_TYPES.has(field.mapKey) ? integerText(key, `${path}[${key}]`) : undefined) ??
          (field.mapKind === 'scalar' && INTEGER_TYPES.has(field.scalar) ? integerText(item, `${path}[${key}]`) : undefined) ??
          (field.mapKind === 'message' ? messageValue(field.message, item, `${path}[${key}]`) : undefined);
        if (found) return found;
      }
      return undefined;
    default:
      return undefined;
  }
}

function messageValue(message: DescMessage, value: JsonValue, path: string): string | undefined {
  if (INTEGER_WRAPPERS.has(message.typeName)) return integerText(value, path);
  return message.typeName.startsWith('google.protobuf.') ? undefined : nonDecimalInteger(message, value, path);
}

function integerText(value: JsonValue, path: string): string | undefined {
  return typeof value === 'string' && !DECIMAL.test(value) ? path : undefined;
}
