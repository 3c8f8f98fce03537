import { choiceOfEnumName, upperSnake } from '../proto/enum-names';
import type { FieldKind, FieldSpec } from './field-spec';
import {
  fail,
  FieldResult,
  ok,
  validateBigint,
  validateBytes,
  validateDate,
  validateDecimal,
  validateInteger,
  validatePrimaryKey,
  validatePrimaryKeyList,
  validateString,
} from './field-validation';

/** A List filter's value as written: its text, and whether it was quoted. */
export interface WrittenValue {
  readonly text: string;
  readonly quoted: boolean;
}

/**
 * What a field kind means wherever a field is handled: how an incoming value is checked, how
 * large a sent one can be, how a List filter's text reads as one, which proto type a generated
 * field has and which ones a declared field may have. One object per kind, so a kind is added
 * or changed in one place.
 */
export interface FieldKindBehaviour {
  /** Coerces and checks one present, non-null incoming value, with Django REST framework's semantics. */
  validate(spec: FieldSpec, value: unknown): FieldResult;
  /** The most bytes a value can take in a message, as far as the field's limits tell. */
  bytesAtMost(spec: FieldSpec): number;
  /** A List filter's value for a field of this kind, or why it cannot be one (the field's name leads the message). */
  filterValue(spec: Pick<FieldSpec, 'name' | 'choices'>, value: WrittenValue): FieldResult;
  /** The filter's `:` reads as "contains". */
  readonly containsText: boolean;
  /** Its values have an order: a List may filter and order by it. */
  readonly ordered: boolean;
  /** The proto type `generateproto` writes for it; undefined for relations (the related key's). */
  readonly protoType: string | undefined;
  /** The proto types (scalars by name, messages by full name) it can travel as; undefined: any. */
  readonly travelsAs: readonly string[] | undefined;
}

/** What a field without a size limit is assumed to hold at most, for sizing List batches. */
const UNBOUNDED_FIELD_BYTES = 64 * 1024;

const INTEGERS = ['int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64', 'fixed32', 'fixed64', 'sfixed32', 'sfixed64'];
const wrapped = (...scalars: string[]) => scalars.map((s) => `.google.protobuf.${s}Value`);
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;

const accept = (_spec: FieldSpec, value: unknown): FieldResult => ok(value);
const atMostItsLength = (spec: FieldSpec): number => spec.maxLength ?? UNBOUNDED_FIELD_BYTES;
const scalarBytes = (): number => 16;
const noComparisons = (spec: Pick<FieldSpec, 'name'>): FieldResult => fail(`${spec.name} cannot be filtered: its type has no comparisons.`);
const asText = (_spec: Pick<FieldSpec, 'name'>, value: WrittenValue): FieldResult => ok(value.text);

/** A related object's key: an integer when it reads as one, else the text. */
function keyOf(spec: Pick<FieldSpec, 'name'>, value: WrittenValue): FieldResult {
  if (!value.quoted && /^-?\d+$/.test(value.text) && Number.isSafeInteger(Number(value.text))) return ok(Number(value.text));
  if (value.quoted && value.text) return ok(value.text);
  return fail(`${spec.name}: "${value.text}" is not a key.`);
}

function numberOf(spec: Pick<FieldSpec, 'name'>, value: WrittenValue, integer: boolean): FieldResult {
  const number = value.quoted ? NaN : Number(value.text);
  if (!Number.isFinite(number) || value.text.trim() === '' || (integer && !Number.isInteger(number))) {
    return fail(`${spec.name}: "${value.text}" is not ${integer ? 'an integer' : 'a number'}.`);
  }
  return ok(number);
}

/** An enum value, given as stored or by its proto name. */
function choiceOf(spec: Pick<FieldSpec, 'name' | 'choices'>, value: WrittenValue): FieldResult {
  const choices = spec.choices;
  if (!choices) return ok(value.text);
  const stored = choices.find((choice) => String(choice) === value.text);
  if (stored !== undefined) return ok(stored);
  const named = choiceOfEnumName(value.text, choices);
  if (named !== undefined && named !== null) return ok(named);
  return fail(`${spec.name}: "${value.text}" is not one of ${choices.map(upperSnake).join(', ')}.`);
}

const text: FieldKindBehaviour = {
  validate: validateString,
  bytesAtMost: atMostItsLength,
  filterValue: asText,
  containsText: true,
  ordered: true,
  protoType: 'string',
  travelsAs: ['string', ...wrapped('String')],
};

export const FIELD_KINDS: Readonly<Record<FieldKind, FieldKindBehaviour>> = {
  string: text,
  text,
  integer: {
    validate: (_spec, value) => validateInteger(value),
    bytesAtMost: scalarBytes,
    filterValue: (spec, value) => numberOf(spec, value, true),
    containsText: false,
    ordered: true,
    protoType: 'int32',
    travelsAs: [...INTEGERS, 'double', 'float', ...wrapped('Int32', 'Int64', 'UInt32', 'UInt64')],
  },
  bigint: {
    validate: (_spec, value) => validateBigint(value),
    bytesAtMost: scalarBytes,
    filterValue: (spec, value) => (/^-?\d+$/.test(value.text) ? ok(value.text) : fail(`${spec.name}: "${value.text}" is not an integer.`)),
    containsText: false,
    ordered: true,
    protoType: 'int64',
    travelsAs: ['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64', 'string', ...wrapped('Int64', 'UInt64', 'String')],
  },
  float: {
    validate: (_spec, value) => (typeof value === 'number' && Number.isFinite(value) ? ok(value) : fail('A valid number is required.')),
    bytesAtMost: scalarBytes,
    filterValue: (spec, value) => numberOf(spec, value, false),
    containsText: false,
    ordered: true,
    // JavaScript numbers are doubles: a `float` would lose digits.
    protoType: 'double',
    travelsAs: ['double', 'float', ...wrapped('Double', 'Float')],
  },
  decimal: {
    validate: validateDecimal,
    bytesAtMost: scalarBytes,
    filterValue: (spec, value) =>
      /^-?\d+(\.\d+)?$/.test(value.text) ? ok(value.text) : fail(`${spec.name}: "${value.text}" is not a decimal number.`),
    containsText: false,
    ordered: true,
    // A string loses no digit.
    protoType: 'string',
    travelsAs: ['string', 'double', ...wrapped('String', 'Double')],
  },
  boolean: {
    validate: (_spec, value) => (typeof value === 'boolean' ? ok(value) : fail('Must be a valid boolean.')),
    bytesAtMost: scalarBytes,
    filterValue: (spec, value) =>
      !value.quoted && (value.text === 'true' || value.text === 'false')
        ? ok(value.text === 'true')
        : fail(`${spec.name}: "${value.text}" is not true or false.`),
    containsText: false,
    ordered: true,
    protoType: 'bool',
    travelsAs: ['bool', ...wrapped('Bool')],
  },
  date: {
    validate: (_spec, value) => validateDate(value),
    bytesAtMost: scalarBytes,
    filterValue: (spec, value) => {
      const time = RFC3339.test(value.text) ? Date.parse(value.text) : NaN;
      return Number.isNaN(time)
        ? fail(`${spec.name}: "${value.text}" is not an RFC 3339 timestamp (like "2024-01-31T09:00:00Z").`)
        : ok(new Date(time));
    },
    containsText: false,
    ordered: true,
    protoType: 'google.protobuf.Timestamp',
    travelsAs: ['.google.protobuf.Timestamp', 'string'],
  },
  json: {
    validate: accept,
    bytesAtMost: atMostItsLength,
    filterValue: noComparisons,
    containsText: false,
    ordered: false,
    protoType: 'google.protobuf.Struct',
    travelsAs: ['.google.protobuf.Struct', '.google.protobuf.Value', 'string'],
  },
  enum: {
    validate: (spec, value) =>
      spec.choices?.includes(value as string | number) ? ok(value) : fail(`"${String(value)}" is not a valid choice.`),
    bytesAtMost: scalarBytes,
    filterValue: choiceOf,
    containsText: true,
    ordered: true,
    // Enums with known values become proto enums (the generators' enumDefinition).
    protoType: 'string',
    travelsAs: undefined, // a proto enum or a string
  },
  bytes: {
    validate: validateBytes,
    bytesAtMost: atMostItsLength,
    filterValue: noComparisons,
    containsText: false,
    ordered: false,
    protoType: 'bytes',
    travelsAs: ['bytes', ...wrapped('Bytes')],
  },
  relation: {
    validate: (_spec, value) => validatePrimaryKey(value),
    bytesAtMost: scalarBytes,
    filterValue: keyOf,
    containsText: false,
    ordered: true,
    protoType: undefined,
    travelsAs: [...INTEGERS, 'string'],
  },
  relations: {
    validate: validatePrimaryKeyList,
    bytesAtMost: (spec) => 8 * (spec.maxItems ?? 1),
    filterValue: noComparisons,
    containsText: false,
    ordered: false,
    protoType: undefined,
    travelsAs: [...INTEGERS, 'string'],
  },
  any: {
    validate: accept,
    bytesAtMost: atMostItsLength,
    filterValue: noComparisons,
    containsText: false,
    ordered: false,
    protoType: 'string',
    travelsAs: undefined,
  },
};

/** The member of a relations filter `:` tests for: a related key. */
export const relatedKeyOf = keyOf;

/**
 * Coerces and checks one present value (not `undefined`) against its field, with Django REST
 * framework's semantics: strings are trimmed, blank and NUL characters are refused, lengths
 * count Unicode code points. What each kind accepts is its `FIELD_KINDS` entry's.
 */
export function validateFieldValue(spec: FieldSpec, value: unknown): FieldResult {
  if (value === null) return spec.nullable ? ok(null) : fail('This field may not be null.');
  return FIELD_KINDS[spec.kind].validate(spec, value);
}
