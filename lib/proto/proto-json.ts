import * as protobuf from 'protobufjs';
import { durationOfJson, durationToJson, timestampOfJson, timestampToJson } from './json-times';

// Proto3's JSON mapping (https://protobuf.dev/programming-guides/json/) on protobufjs's
// reflection, the runtime that encodes and decodes every call: JSON is read into an object
// protobufjs encodes, and a decoded message is written as JSON, with nothing in between.

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** A JSON value that does not follow proto3's JSON mapping for its field; the message starts with its JSON path. */
export class ProtoJsonError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtoJsonError';
  }
}

/** What protobufjs reads into a message (`Type.fromObject`) and what a decoded message holds. */
type WireValue = unknown;
type WireObject = Record<string, WireValue>;

const INT32_RANGES: Readonly<Record<string, readonly [number, number]>> = {
  int32: [-0x80000000, 0x7fffffff],
  sint32: [-0x80000000, 0x7fffffff],
  sfixed32: [-0x80000000, 0x7fffffff],
  uint32: [0, 0xffffffff],
  fixed32: [0, 0xffffffff],
};
const INT64_RANGES: Readonly<Record<string, readonly [bigint, bigint]>> = {
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  sint64: [-(2n ** 63n), 2n ** 63n - 1n],
  sfixed64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
  fixed64: [0n, 2n ** 64n - 1n],
};
const FLOAT_MAX = 3.4028234663852886e38;
/** A number as JSON writes it; proto3 JSON also takes integers written with a fraction or exponent that leave a whole number. */
const DECIMAL = /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/;
const BASE64 = /^[A-Za-z0-9+/\-_]*={0,2}$/;
const WRAPPERS = new Set(
  ['Double', 'Float', 'Int64', 'UInt64', 'Int32', 'UInt32', 'Bool', 'String', 'Bytes'].map((n) => `.google.protobuf.${n}Value`),
);
/** The other well-known types whose JSON is not an object of their fields. */
const OWN_JSON_FORMS = new Set(
  ['Timestamp', 'Duration', 'FieldMask', 'Struct', 'ListValue', 'Value', 'Any', 'Empty'].map((n) => `.google.protobuf.${n}`),
);

/** The JSON name protoc gives a field: its `json_name`, or its name in lowerCamelCase. */
export function jsonNameOf(field: protobuf.Field): string {
  return (field.options?.json_name as string | undefined) ?? lowerCamelCase(field.name);
}

/** protoc's ToJsonName: each underscore dropped and the letter after it capitalized. */
export function lowerCamelCase(name: string): string {
  let out = '';
  let upper = false;
  for (const c of name) {
    if (c === '_') upper = true;
    else {
      out += upper ? c.toUpperCase() : c;
      upper = false;
    }
  }
  return out;
}

/** A message field and the name JSON gives it. */
export interface JsonField {
  readonly field: protobuf.Field;
  readonly jsonName: string;
}

interface FieldPlan extends JsonField {
  /** The proto name: the property protobufjs reads and writes. */
  name: string;
  jsonName: string;
  repeated: boolean;
  map: boolean;
  /** A map's key type (`string`, `int64`, ...). */
  keyType?: string;
  /** Written only when set: a message, a oneof member or a proto3 `optional`. */
  explicitPresence: boolean;
  /** The real (not synthetic) oneof the field is part of. */
  oneof?: string;
  type: protobuf.Type | protobuf.Enum | string;
}

interface MessagePlan {
  /** A well-known type with a JSON form of its own (`Timestamp` as a string, ...). */
  wellKnown: boolean;
  fields: FieldPlan[];
  /** Each field by its JSON name and its proto name. */
  byKey: Map<string, FieldPlan>;
}

/** Reads and writes messages as proto3 JSON; each message type's plan is made once. */
export class ProtoJson {
  private readonly plans = new Map<protobuf.Type, MessagePlan>();

  /** A JSON value as the binary encoding of `type`; throws `ProtoJsonError`. */
  toBinary(type: protobuf.Type, json: JsonValue): Buffer {
    const object = this.readMessage(type, json, '');
    return type.encode(type.fromObject(object as Record<string, unknown>)).finish() as Buffer;
  }

  /** A message's binary encoding as a JSON value: every field without presence written, zeros included. */
  toJson(type: protobuf.Type, bytes: Buffer): JsonValue {
    return this.writeMessage(type, type.decode(bytes) as unknown as WireObject);
  }

  /** The field a JSON object's key names (its JSON name or its proto name), with its JSON name. */
  fieldOf(type: protobuf.Type, key: string): JsonField | undefined {
    return this.plan(type).byKey.get(key);
  }

  private plan(type: protobuf.Type): MessagePlan {
    let plan = this.plans.get(type);
    if (plan) return plan;
    const fields = type.fieldsArray.map((field): FieldPlan => {
      field.resolve();
      const oneof = field.partOf && !(field.partOf as protobuf.OneOf & { isProto3Optional?: boolean }).isProto3Optional;
      return {
        field,
        name: field.name,
        jsonName: jsonNameOf(field),
        repeated: field.repeated,
        map: field.map,
        keyType: field instanceof protobuf.MapField ? field.keyType : undefined,
        explicitPresence: !field.repeated && !field.map && (field.resolvedType instanceof protobuf.Type || !!field.partOf),
        oneof: oneof ? field.partOf!.name : undefined,
        type: field.resolvedType ?? field.type,
      };
    });
    const byKey = new Map<string, FieldPlan>();
    for (const field of fields) byKey.set(field.name, field).set(field.jsonName, field);
    plan = { wellKnown: WRAPPERS.has(type.fullName) || OWN_JSON_FORMS.has(type.fullName), fields, byKey };
    this.plans.set(type, plan);
    return plan;
  }

  // Reading: JSON -> the object protobufjs's `fromObject` takes.

  private readMessage(type: protobuf.Type, json: JsonValue, path: string): WireObject {
    const plan = this.plan(type);
    if (plan.wellKnown) return this.readWellKnown(type, json, path)!;
    if (!isObject(json)) throw fail(path, `must be a JSON object (a ${typeName(type)}), not ${describe(json)}`);
    const out: WireObject = {};
    const oneofs = new Map<string, string>();
    for (const key in json) {
      const field = plan.byKey.get(key);
      const at = join(path, key);
      if (!field) throw fail(at, `not a field of ${typeName(type)}`);
      const value = json[key];
      if (value === null && !acceptsNull(field.type)) continue;
      if (field.oneof) {
        const other = oneofs.get(field.oneof);
        if (other) throw fail(at, `set with ${other}, but both are members of oneof ${field.oneof}`);
        oneofs.set(field.oneof, key);
      }
      if (field.name in out) throw fail(at, 'given twice (by its JSON name and its proto name)');
      out[field.name] = this.readField(field, value, at);
    }
    return out;
  }

  private readField(field: FieldPlan, value: JsonValue, path: string): WireValue {
    if (field.map) {
      if (!isObject(value)) throw fail(path, `must be a JSON object (a map), not ${describe(value)}`);
      const out: Record<string, WireValue> = {};
      for (const key in value)
        out[readMapKey(field.keyType!, key, join(path, key))] = this.readValue(field.type, value[key], `${path}[${key}]`);
      return out;
    }
    if (field.repeated) {
      if (!Array.isArray(value)) throw fail(path, `must be a JSON array, not ${describe(value)}`);
      return value.map((item, i) => {
        if (item === null && !acceptsNull(field.type)) throw fail(`${path}[${i}]`, 'must not be null');
        return this.readValue(field.type, item, `${path}[${i}]`);
      });
    }
    return this.readValue(field.type, value, path);
  }

  private readValue(type: protobuf.Type | protobuf.Enum | string, value: JsonValue, path: string): WireValue {
    if (type instanceof protobuf.Type) return this.readMessage(type, value, path);
    if (type instanceof protobuf.Enum) return readEnum(type, value, path);
    return readScalar(type, value, path);
  }

  /** The well-known types with a JSON form of their own; undefined for any other type. */
  private readWellKnown(type: protobuf.Type, json: JsonValue, path: string): WireObject | undefined {
    const name = type.fullName;
    const field = (id: number) => type.fieldsById[id].name;
    if (WRAPPERS.has(name)) return { [field(1)]: readScalar(type.fieldsById[1].type, json, path) };
    switch (name) {
      case '.google.protobuf.Timestamp':
      case '.google.protobuf.Duration': {
        if (typeof json !== 'string') throw fail(path, `must be a string (a ${typeName(type)}), not ${describe(json)}`);
        const time = name.endsWith('Timestamp') ? timestampOfJson(json) : durationOfJson(json);
        if (time instanceof Error) throw fail(path, time.message);
        return { [field(1)]: time.seconds, [field(2)]: time.nanos };
      }
      case '.google.protobuf.FieldMask':
        if (typeof json !== 'string') throw fail(path, `must be a string (a google.protobuf.FieldMask), not ${describe(json)}`);
        return { [field(1)]: json ? json.split(',').map(snakeCase) : [] };
      case '.google.protobuf.Struct':
        if (!isObject(json)) throw fail(path, `must be a JSON object (a google.protobuf.Struct), not ${describe(json)}`);
        return this.readStruct(type, json, path);
      case '.google.protobuf.ListValue':
        if (!Array.isArray(json)) throw fail(path, `must be a JSON array (a google.protobuf.ListValue), not ${describe(json)}`);
        return {
          [field(1)]: json.map((item, i) => this.readMessage(type.fieldsById[1].resolvedType as protobuf.Type, item, `${path}[${i}]`)),
        };
      case '.google.protobuf.Value':
        return this.readDynamic(type, json, path);
      case '.google.protobuf.Any':
        return this.readAny(type, json, path);
      case '.google.protobuf.Empty':
        if (!isObject(json) || Object.keys(json).length) throw fail(path, `must be {} (a google.protobuf.Empty), not ${describe(json)}`);
        return {};
      default:
        return undefined;
    }
  }

  private readStruct(type: protobuf.Type, json: JsonObject, path: string): WireObject {
    const valueType = type.fieldsById[1].resolvedType as protobuf.Type;
    const fields: WireObject = {};
    for (const key in json) fields[key] = this.readDynamic(valueType, json[key], join(path, key));
    return { [type.fieldsById[1].name]: fields };
  }

  /** A `google.protobuf.Value`: whatever the JSON is. */
  private readDynamic(type: protobuf.Type, json: JsonValue, path: string): WireObject {
    const field = (id: number) => type.fieldsById[id];
    if (json === null) return { [field(1).name]: 0 };
    if (typeof json === 'number') return { [field(2).name]: json };
    if (typeof json === 'string') return { [field(3).name]: json };
    if (typeof json === 'boolean') return { [field(4).name]: json };
    if (Array.isArray(json)) return { [field(6).name]: this.readMessage(field(6).resolvedType as protobuf.Type, json, path) };
    return { [field(5).name]: this.readStruct(field(5).resolvedType as protobuf.Type, json, path) };
  }

  private readAny(type: protobuf.Type, json: JsonValue, path: string): WireObject {
    if (!isObject(json)) throw fail(path, `must be a JSON object (a google.protobuf.Any), not ${describe(json)}`);
    const url = json['@type'];
    if (url === undefined && !Object.keys(json).length) return {};
    if (typeof url !== 'string') throw fail(join(path, '@type'), 'must be the type URL of the packed message');
    const inner = this.lookupType(type, url, path);
    const { '@type': _url, ...rest } = json;
    const packed = this.readWellKnown(inner, 'value' in rest && rest.value !== undefined ? rest.value : rest, join(path, 'value'));
    const object = packed ?? this.readMessage(inner, rest, path);
    const value = inner.encode(inner.fromObject(object as Record<string, unknown>)).finish();
    return { [type.fieldsById[1].name]: url, [type.fieldsById[2].name]: Buffer.from(value) };
  }

  private lookupType(from: protobuf.Type, url: string, path: string): protobuf.Type {
    const name = url.slice(url.lastIndexOf('/') + 1);
    try {
      return from.root.lookupType(name);
    } catch {
      throw fail(join(path, '@type'), `${name} is not declared in any loaded .proto file`);
    }
  }

  // Writing: a decoded message -> JSON.

  private writeMessage(type: protobuf.Type, message: WireObject): JsonValue {
    const plan = this.plan(type);
    if (plan.wellKnown) return this.writeWellKnown(type, message)!;
    const out: JsonObject = {};
    for (const field of plan.fields) {
      const value = message[field.name];
      if (field.map) {
        const entries: JsonObject = {};
        for (const key in value as WireObject)
          entries[writeMapKey(field.keyType!, key)] = this.writeValue(field.type, (value as WireObject)[key]);
        out[field.jsonName] = entries;
      } else if (field.repeated) {
        out[field.jsonName] = ((value as WireValue[] | undefined) ?? []).map((item) => this.writeValue(field.type, item));
      } else if (!field.explicitPresence || (value != null && Object.prototype.hasOwnProperty.call(message, field.name))) {
        out[field.jsonName] = this.writeValue(field.type, value);
      }
    }
    return out;
  }

  private writeValue(type: protobuf.Type | protobuf.Enum | string, value: WireValue): JsonValue {
    if (type instanceof protobuf.Type) return this.writeMessage(type, value as WireObject);
    if (type instanceof protobuf.Enum) {
      if (type.fullName === '.google.protobuf.NullValue') return null;
      return type.valuesById[value as number] ?? (value as number);
    }
    return writeScalar(type, value);
  }

  private writeWellKnown(type: protobuf.Type, message: WireObject): JsonValue | undefined {
    const name = type.fullName;
    const get = (id: number) => message[type.fieldsById[id].name];
    if (WRAPPERS.has(name)) return writeScalar(type.fieldsById[1].type, get(1));
    switch (name) {
      case '.google.protobuf.Timestamp':
        return timestampToJson(longNumber(get(1)), Number(get(2) ?? 0));
      case '.google.protobuf.Duration':
        return durationToJson(longNumber(get(1)), Number(get(2) ?? 0));
      case '.google.protobuf.FieldMask':
        return ((get(1) as string[] | undefined) ?? []).map(lowerCamelCase).join(',');
      case '.google.protobuf.Struct': {
        const valueType = type.fieldsById[1].resolvedType as protobuf.Type;
        const out: JsonObject = {};
        const fields = (get(1) as WireObject | undefined) ?? {};
        for (const key in fields) out[key] = this.writeMessage(valueType, fields[key] as WireObject);
        return out;
      }
      case '.google.protobuf.ListValue': {
        const valueType = type.fieldsById[1].resolvedType as protobuf.Type;
        return ((get(1) as WireObject[] | undefined) ?? []).map((item) => this.writeMessage(valueType, item));
      }
      case '.google.protobuf.Value': {
        for (const id of [2, 3, 4, 5, 6]) {
          const field = type.fieldsById[id];
          if (Object.prototype.hasOwnProperty.call(message, field.name) && message[field.name] != null)
            return this.writeValue(field.resolvedType ?? field.type, message[field.name]);
        }
        return null;
      }
      case '.google.protobuf.Any': {
        const url = String(get(1) ?? '');
        if (!url) return {};
        const inner = type.root.lookupType(url.slice(url.lastIndexOf('/') + 1));
        const decoded = inner.decode(get(2) as Uint8Array) as unknown as WireObject;
        const packed = this.writeWellKnown(inner, decoded);
        return packed !== undefined
          ? { '@type': url, value: packed }
          : { '@type': url, ...(this.writeMessage(inner, decoded) as JsonObject) };
      }
      case '.google.protobuf.Empty':
        return {};
      default:
        return undefined;
    }
  }
}

function readScalar(type: string, value: JsonValue, path: string): WireValue {
  switch (type) {
    case 'string':
      if (typeof value !== 'string') throw fail(path, `must be a string, not ${describe(value)}`);
      return value;
    case 'bool':
      if (typeof value !== 'boolean') throw fail(path, `must be true or false, not ${describe(value)}`);
      return value;
    case 'bytes':
      if (typeof value !== 'string' || !BASE64.test(value)) throw fail(path, `must be base64 text (bytes), not ${describe(value)}`);
      return Buffer.from(value, 'base64');
    case 'double':
    case 'float':
      return readFloat(type, value, path);
    default:
      return type in INT32_RANGES ? readInt32(type, value, path) : readInt64(type, value, path);
  }
}

function readFloat(type: string, value: JsonValue, path: string): number {
  let number: number;
  if (typeof value === 'number') number = value;
  else if (value === 'NaN' || value === 'Infinity' || value === '-Infinity') return Number(value);
  else if (typeof value === 'string' && DECIMAL.test(value)) number = Number(value);
  else throw fail(path, `must be a number, not ${describe(value)}`);
  if (!Number.isFinite(number) || (type === 'float' && Math.abs(number) > FLOAT_MAX))
    throw fail(path, `${describe(value)} is out of range for ${type}`);
  return number;
}

function readInt32(type: string, value: JsonValue, path: string): number {
  const number = integerOf(value, path);
  const [min, max] = INT32_RANGES[type];
  if (number < min || number > max) throw fail(path, `${describe(value)} is out of range for ${type}`);
  return number;
}

/** An int64 as protobufjs reads it without losing digits: a number when it is a safe integer, else decimal text. */
function readInt64(type: string, value: JsonValue, path: string): number | string {
  let big: bigint;
  if (typeof value === 'string') {
    if (!/^-?\d+$/.test(value)) throw fail(path, `must be a decimal integer (proto3's JSON mapping), not ${describe(value)}`);
    if (value.length < 16) return checkInt64(type, Number(value), value, path);
    big = BigInt(value);
  } else {
    const number = integerOf(value, path);
    if (!Number.isSafeInteger(number)) throw fail(path, `${describe(value)} is past what a JSON number holds exactly: send it as a string`);
    return checkInt64(type, number, value, path);
  }
  const [min, max] = INT64_RANGES[type];
  if (big < min || big > max) throw fail(path, `${describe(value)} is out of range for ${type}`);
  return big.toString();
}

/** A safe integer's range check: only the unsigned types have a bound a safe integer can pass. */
function checkInt64(type: string, number: number, value: JsonValue, path: string): number {
  if (number < 0 && (type === 'uint64' || type === 'fixed64')) throw fail(path, `${describe(value)} is out of range for ${type}`);
  return number;
}

/** A decoded int64 (protobufjs's Long, or a number) as a number; for values that fit one, such as a Timestamp's seconds. */
function longNumber(value: WireValue): number {
  return typeof value === 'object' && value !== null ? (value as { toNumber(): number }).toNumber() : Number(value ?? 0);
}

/** A decoded int64 as decimal text, without Long's slow division when the value fits a number. */
function longText(value: WireValue): string {
  if (typeof value !== 'object' || value === null) return String(value ?? 0);
  const number = (value as { toNumber(): number }).toNumber();
  return Number.isSafeInteger(number) ? String(number) : String(value);
}

function integerOf(value: JsonValue, path: string): number {
  if (typeof value === 'string' && !DECIMAL.test(value))
    throw fail(path, `must be a decimal integer (proto3's JSON mapping), not ${describe(value)}`);
  const number = typeof value === 'string' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number)) throw fail(path, `must be an integer, not ${describe(value)}`);
  return number;
}

function readEnum(type: protobuf.Enum, value: JsonValue, path: string): number {
  if (type.fullName === '.google.protobuf.NullValue' && (value === null || value === 'NULL_VALUE')) return 0;
  if (typeof value === 'string') {
    const number = type.values[value];
    if (number === undefined) throw fail(path, `${describe(value)} is not a value of enum ${typeName(type)}`);
    return number;
  }
  if (typeof value === 'number' && Number.isInteger(value) && value >= INT32_RANGES.int32[0] && value <= INT32_RANGES.int32[1])
    return value;
  throw fail(path, `must be a name or number of enum ${typeName(type)}, not ${describe(value)}`);
}

function readMapKey(keyType: string, key: string, path: string): string {
  if (keyType === 'string') return key;
  if (keyType === 'bool') {
    if (key === 'true') return key;
    // protobufjs writes a bool key from the object key's text, and "false" is a truthy string.
    if (key === 'false') throw fail(path, 'a map with bool keys cannot hold false here (protobufjs encodes every key as true)');
    throw fail(path, 'must be "true" or "false" (a bool map key)');
  }
  return String(readScalar(keyType, key, path));
}

function writeMapKey(keyType: string, key: string): string {
  // protobufjs keys a 64-bit map by the value's 8-byte hash.
  if (keyType in INT64_RANGES && key.length === 8 && !/^-?\d+$/.test(key))
    return protobuf.util.LongBits.fromHash(key)
      .toLong(keyType === 'uint64' || keyType === 'fixed64')
      .toString();
  return key;
}

function writeScalar(type: string, value: WireValue): JsonValue {
  switch (type) {
    case 'string':
    case 'bool':
      return value as JsonValue;
    case 'bytes':
      return Buffer.from((value as Uint8Array | undefined) ?? []).toString('base64');
    case 'double':
    case 'float':
      return Number.isFinite(value) ? (value as number) : String(value);
    default:
      return type in INT64_RANGES ? longText(value) : (value as number);
  }
}

function acceptsNull(type: protobuf.Type | protobuf.Enum | string): boolean {
  return typeof type !== 'string' && (type.fullName === '.google.protobuf.Value' || type.fullName === '.google.protobuf.NullValue');
}

function snakeCase(path: string): string {
  return path.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function isObject(json: JsonValue | undefined): json is JsonObject {
  return typeof json === 'object' && json !== null && !Array.isArray(json);
}

function typeName(type: protobuf.ReflectionObject): string {
  return type.fullName.slice(1);
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function describe(value: JsonValue): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return JSON.stringify(value);
}

function fail(path: string, reason: string): ProtoJsonError {
  return new ProtoJsonError(path ? `${path}: ${reason}` : reason);
}
