import * as protobuf from 'protobufjs';
import { upperSnake } from './enum-names';
import { LONG_SCALARS } from './scalar-types';
import { MalformedMessageError, StrictReader } from './strict-reader';
import { checkWireFormat, RequestFieldError, RequestFieldLimits } from './wire-format';

/**
 * Converts between wire bytes and the plain objects handlers see.
 *
 * Handlers get proto3 semantics with JavaScript-friendly values: scalars carry their
 * defaults, field names stay as written in the .proto (snake_case), `google.protobuf.*Value`
 * wrappers become the bare value (or `undefined` when unset), `google.protobuf.Timestamp`
 * becomes a `Date`, a "nullable" message (a oneof of a value and `google.protobuf.NullValue`)
 * becomes the value, `null`, or `undefined` when unset, `Struct` becomes a plain object,
 * and int64 fields are decimal strings so no precision is lost.
 * Responses accept the same shapes (and `bigint` for int64).
 */
export interface MessageCodec {
  readonly type: protobuf.Type;
  decode(bytes: Buffer): Record<string, unknown>;
  encode(message: unknown): Buffer;
  /**
   * Checks bytes as `decode` does (structure, wire types, UTF-8) without converting them, and
   * returns them with the fields of another wire type dropped; throws `MalformedMessageError`.
   */
  wellFormed(bytes: Buffer): Buffer;
}

export interface DecodeOptions {
  longs: typeof String | typeof Number;
  enums: typeof String | typeof Number;
  /** What a request's string and bytes fields may hold. @default no limit beyond the message's size */
  requestFields?: RequestFieldLimits;
}

type Convert = (value: unknown) => unknown;
type FieldConverter = { name: string; repeated: boolean; convert: Convert };

const WRAPPERS = new Set(
  ['Double', 'Float', 'Int64', 'UInt64', 'Int32', 'UInt32', 'Bool', 'String', 'Bytes'].map((n) => `.google.protobuf.${n}Value`),
);

export class MessageCodecFactory {
  private readonly codecs = new Map<protobuf.Type, MessageCodec>();
  private readonly toNatural = new Map<protobuf.Type, Convert | null>();
  private readonly toWire = new Map<protobuf.Type, Convert | null>();

  constructor(private readonly options: DecodeOptions) {}

  codec(type: protobuf.Type): MessageCodec {
    let codec = this.codecs.get(type);
    if (!codec) {
      codec = this.build(type);
      this.codecs.set(type, codec);
    }
    return codec;
  }

  private build(type: protobuf.Type): MessageCodec {
    const toObjectOptions: protobuf.IConversionOptions = {
      longs: this.options.longs,
      enums: this.options.enums,
      defaults: true,
      arrays: true,
      oneofs: true,
    };
    const natural = this.naturalConverter(type);
    const wire = this.wireConverter(type);
    const limits = this.options.requestFields;
    return {
      type,
      decode(bytes: Buffer): Record<string, unknown> {
        const object = type.toObject(strictDecode(type, bytes, limits).decoded, toObjectOptions);
        return (natural ? natural(object) : object) as Record<string, unknown>;
      },
      wellFormed(bytes: Buffer): Buffer {
        return strictDecode(type, bytes, limits).bytes;
      },
      encode(message: unknown): Buffer {
        const prepared = wire ? wire(message) : message;
        const wireMessage = type.fromObject((prepared ?? {}) as Record<string, unknown>);
        return type.encode(wireMessage).finish() as Buffer;
      },
    };
  }

  /** Decoded object -> handler object. `null` when the type needs no conversion. */
  private naturalConverter(type: protobuf.Type): Convert | null {
    if (this.toNatural.has(type)) return this.toNatural.get(type)!;
    this.toNatural.set(type, null); // breaks recursion for self-referencing messages
    const converters: FieldConverter[] = [];
    const syntheticOneofs = type.oneofsArray.filter((o) => o.isProto3Optional).map((o) => o.name);
    for (const field of type.fieldsArray) {
      field.resolve();
      const fieldType = field.resolvedType;
      if (!(fieldType instanceof protobuf.Type) || field.map) continue;
      const convert = this.naturalValue(fieldType);
      converters.push({ name: field.name, repeated: field.repeated, convert });
    }
    if (!converters.length && !syntheticOneofs.length) return null;
    const convert: Convert = (value) => {
      const object = value as Record<string, unknown>;
      for (const { name, repeated, convert } of converters) {
        const current = object[name];
        if (repeated) object[name] = (current as unknown[]).map(convert);
        else object[name] = current == null ? undefined : convert(current);
      }
      for (const name of syntheticOneofs) delete object[name];
      return object;
    };
    this.toNatural.set(type, convert);
    return convert;
  }

  private naturalValue(type: protobuf.Type): Convert {
    const name = type.fullName;
    if (WRAPPERS.has(name)) return (v) => (v as { value: unknown }).value;
    if (name === '.google.protobuf.Timestamp') return (v) => timestampToDate(v as TimestampObject);
    if (name === '.google.protobuf.Struct') return (v) => structToJson(v as StructObject);
    if (name === '.google.protobuf.Value') return (v) => valueToJson(v as ValueObject);
    const nullable = nullableShape(type);
    if (nullable) {
      return (v) => {
        const kind = (v as Record<string, unknown>)[nullable.oneof];
        if (kind === nullable.nullField) return null;
        if (kind === nullable.valueField) return (v as Record<string, unknown>)[nullable.valueField];
        return undefined;
      };
    }
    const nested = this.naturalConverter(type);
    return nested ?? ((v) => v);
  }

  /** Handler object -> object ready for `Type.fromObject`. `null` when the type needs no conversion. */
  private wireConverter(type: protobuf.Type): Convert | null {
    if (this.toWire.has(type)) return this.toWire.get(type)!;
    this.toWire.set(type, null);
    const converters: FieldConverter[] = [];
    for (const field of type.fieldsArray) {
      field.resolve();
      const fieldType = field.resolvedType;
      if (field.map) continue;
      if (fieldType instanceof protobuf.Type) {
        converters.push({ name: field.name, repeated: field.repeated, convert: this.wireValue(fieldType) });
      } else if (fieldType instanceof protobuf.Enum) {
        converters.push({ name: field.name, repeated: field.repeated, convert: enumNameOf(fieldType) });
      } else if (LONG_SCALARS.has(field.type)) {
        converters.push({ name: field.name, repeated: field.repeated, convert: bigintToString });
      }
    }
    if (!converters.length) return null;
    const convert: Convert = (value) => {
      if (value == null || typeof value !== 'object') return value;
      const object: Record<string, unknown> = { ...(value as Record<string, unknown>) };
      for (const { name, repeated, convert } of converters) {
        const current = object[name];
        if (current === undefined) continue;
        if (repeated) object[name] = Array.isArray(current) ? current.map(convert) : current;
        else object[name] = convert(current);
      }
      return object;
    };
    this.toWire.set(type, convert);
    return convert;
  }

  private wireValue(type: protobuf.Type): Convert {
    const name = type.fullName;
    if (WRAPPERS.has(name)) {
      return (v) => (v == null ? undefined : isPlainObject(v) && 'value' in v ? v : { value: bigintToString(v) });
    }
    if (name === '.google.protobuf.Timestamp') return toTimestamp;
    if (name === '.google.protobuf.Struct') {
      const names = valueFieldNames(type.lookupType('.google.protobuf.Value'));
      return (v) => (v == null ? undefined : jsonToStruct(v as object, names));
    }
    if (name === '.google.protobuf.Value') {
      const names = valueFieldNames(type);
      return (v) => (v === undefined ? undefined : jsonToValue(v, names));
    }
    const nullable = nullableShape(type);
    if (nullable) {
      return (v) => {
        if (v === undefined) return undefined;
        if (v === null) return { [nullable.nullField]: 0 };
        if (isPlainObject(v) && (nullable.valueField in v || nullable.nullField in v)) return v;
        return { [nullable.valueField]: v };
      };
    }
    const nested = this.wireConverter(type);
    return nested ? (v) => (v == null ? undefined : nested(v)) : (v) => (v == null ? undefined : v);
  }
}

/** Decodes as the official runtimes would (see `checkWireFormat` and `StrictReader`). */
function strictDecode(
  type: protobuf.Type,
  given: Buffer,
  limits: RequestFieldLimits | undefined,
): { decoded: protobuf.Message; bytes: Buffer } {
  try {
    const bytes = checkWireFormat(type, given, limits);
    return { decoded: type.decode(new StrictReader(bytes)), bytes };
  } catch (error) {
    if (error instanceof MalformedMessageError || error instanceof RequestFieldError) throw error;
    throw new MalformedMessageError((error as Error).message);
  }
}

/**
 * Accepts an enum's names, numbers, or the entity values generated protos name after
 * (`'blue'` for `GADGET_COLOR_BLUE` in enum `GadgetColor`).
 */
function enumNameOf(type: protobuf.Enum): Convert {
  const prefix = `${upperSnake(type.name)}_`;
  const byValue = new Map<string, string>();
  for (const name of Object.keys(type.values)) {
    byValue.set(name.startsWith(prefix) ? name.slice(prefix.length) : name, name);
  }
  return (value) => {
    if (typeof value !== 'string' || value in type.values) return value;
    return byValue.get(upperSnake(value)) ?? value;
  };
}

interface NullableShape {
  oneof: string;
  valueField: string;
  nullField: string;
}

/** A message made of one oneof holding a value and a `google.protobuf.NullValue`: the seed's NullableString pattern. */
export function nullableShape(type: protobuf.Type): NullableShape | undefined {
  if (type.oneofsArray.length !== 1 || type.fieldsArray.length !== 2) return undefined;
  const oneof = type.oneofsArray[0];
  if (oneof.fieldsArray.length !== 2) return undefined;
  const nullField = oneof.fieldsArray.find((f) => {
    f.resolve();
    return f.resolvedType?.fullName === '.google.protobuf.NullValue';
  });
  const valueField = oneof.fieldsArray.find((f) => f !== nullField);
  if (!nullField || !valueField) return undefined;
  return { oneof: oneof.name, valueField: valueField.name, nullField: nullField.name };
}

function bigintToString(value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

interface TimestampObject {
  seconds: string | number;
  nanos: number;
}

function timestampToDate(v: TimestampObject): Date {
  return new Date(Number(v.seconds) * 1000 + Math.floor((v.nanos ?? 0) / 1e6));
}

/**
 * A Date, an ISO string or epoch milliseconds (as some drivers return dates) -> Timestamp;
 * `{ seconds, nanos }` passes as it is. Anything else is refused rather than sent as 1970.
 */
function toTimestamp(value: unknown): unknown {
  if (value == null) return undefined;
  if (isPlainObject(value)) return value;
  const date = value instanceof Date ? value : typeof value === 'string' || typeof value === 'number' ? new Date(value) : undefined;
  if (!date || Number.isNaN(date.getTime())) {
    throw new TypeError(`${describe(value)} is not a google.protobuf.Timestamp: send a Date, an RFC 3339 string or { seconds, nanos }`);
  }
  return dateToTimestamp(date);
}

function describe(value: unknown): string {
  if (value instanceof Date) return 'an invalid Date';
  return typeof value === 'string' ? JSON.stringify(value) : `a ${typeof value}`;
}

function dateToTimestamp(date: Date): TimestampObject {
  const ms = date.getTime();
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: (ms - seconds * 1000) * 1e6 };
}

interface ValueObject {
  kind?: string;
  [key: string]: unknown;
}
interface StructObject {
  fields?: Record<string, ValueObject>;
}

/**
 * Field names of google.protobuf.Value: `number_value` when parsed from a .proto with keepCase,
 * `numberValue` in protobufjs's bundled copy. Keyed by the name without underscores.
 */
type ValueFieldNames = Record<'nullvalue' | 'numbervalue' | 'stringvalue' | 'boolvalue' | 'structvalue' | 'listvalue', string>;

function valueFieldNames(valueType: protobuf.Type): ValueFieldNames {
  const names = {} as ValueFieldNames;
  for (const field of valueType.fieldsArray) names[canonical(field.name) as keyof ValueFieldNames] = field.name;
  return names;
}

function canonical(name: string): string {
  return name.replace(/_/g, '').toLowerCase();
}

function structToJson(struct: StructObject): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(struct.fields ?? {})) out[key] = valueToJson(value);
  return out;
}

function valueToJson(value: ValueObject): unknown {
  const kind = value.kind;
  if (!kind) return null;
  const inner = value[kind];
  switch (canonical(kind)) {
    case 'numbervalue':
    case 'stringvalue':
    case 'boolvalue':
      return inner;
    case 'structvalue':
      return structToJson(inner as StructObject);
    case 'listvalue':
      return ((inner as { values?: ValueObject[] }).values ?? []).map(valueToJson);
    default:
      return null;
  }
}

function jsonToStruct(json: object, names: ValueFieldNames): StructObject {
  const fields: Record<string, ValueObject> = {};
  for (const [key, value] of Object.entries(json)) fields[key] = jsonToValue(value, names);
  return { fields };
}

function jsonToValue(json: unknown, names: ValueFieldNames): ValueObject {
  if (json === null || json === undefined) return { [names.nullvalue]: 0 };
  if (typeof json === 'number') return { [names.numbervalue]: json };
  if (typeof json === 'string') return { [names.stringvalue]: json };
  if (typeof json === 'boolean') return { [names.boolvalue]: json };
  if (typeof json === 'bigint') return { [names.stringvalue]: json.toString() };
  if (Array.isArray(json)) return { [names.listvalue]: { values: json.map((item) => jsonToValue(item, names)) } };
  if (json instanceof Date) return { [names.stringvalue]: json.toISOString() };
  return { [names.structvalue]: jsonToStruct(json, names) };
}
