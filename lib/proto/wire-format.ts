import * as protobuf from 'protobufjs';
import { MalformedMessageError } from './strict-reader';

/** What any string or bytes field of a request may hold, checked while its bytes are scanned. */
export interface RequestFieldLimits {
  /** The most bytes of one string (UTF-8) or bytes field. */
  maxFieldBytes: number;
  /** Refuse a string holding U+0000 (PostgreSQL cannot store it, and C libraries end text there). */
  refuseNullCharacters: boolean;
}

/** Thrown for a request field over `RequestFieldLimits`: the field's path (`items[2].title`) and what is wrong. */
export class RequestFieldError extends Error {
  constructor(
    readonly field: string,
    readonly description: string,
  ) {
    super(`${field}: ${description}`);
    this.name = 'RequestFieldError';
  }
}

/** Where a field sits, for naming it in an error (built up only while nested fields are scanned). */
interface FieldPath {
  readonly parent: FieldPath | undefined;
  readonly name: string;
  /** The place of a repeated field's value among the field's values. */
  readonly index?: number;
}

function pathText(path: FieldPath): string {
  const own = path.index === undefined ? path.name : `${path.name}[${path.index}]`;
  return path.parent ? `${pathText(path.parent)}.${own}` : own;
}

const VARINT = 0;
const FIXED64 = 1;
const LENGTH = 2;
const START_GROUP = 3;
const END_GROUP = 4;
const FIXED32 = 5;

const WIRE_TYPE_OF_SCALAR: Readonly<Record<string, number>> = {
  double: FIXED64,
  fixed64: FIXED64,
  sfixed64: FIXED64,
  float: FIXED32,
  fixed32: FIXED32,
  sfixed32: FIXED32,
  int32: VARINT,
  int64: VARINT,
  uint32: VARINT,
  uint64: VARINT,
  sint32: VARINT,
  sint64: VARINT,
  bool: VARINT,
  string: LENGTH,
  bytes: LENGTH,
};

/** What a message's known fields may look like on the wire. */
interface FieldLayout {
  /** The field's name in the .proto, for errors. */
  name: string;
  /** Whether values of the field are counted (repeated and map fields), for errors. */
  repeated: boolean;
  /** A string or bytes field, whose values `RequestFieldLimits` bound. */
  text?: 'string' | 'bytes';
  /** Bit mask of the wire types the field may arrive with (a repeated number also as packed). */
  wireTypes: number;
  /** The layout of a length-delimited (or group) submessage to check inside. */
  nested?: () => MessageLayout;
}
type MessageLayout = ReadonlyMap<number, FieldLayout>;

const layouts = new WeakMap<protobuf.Type, MessageLayout>();
const MAX_DEPTH = 100;
const MAX_FIELD_NUMBER = 2 ** 29 - 1;

/**
 * Checks request bytes the way the official protobuf runtimes parse them, before protobufjs
 * (which is more lenient) decodes them:
 *
 * - malformed input is refused: field number 0 or above 2^29-1, wire types 6 and 7, varints over
 *   10 bytes, lengths over 2^31-1 or past the end, unterminated or mismatched groups,
 *   truncated fixed-width values, nesting deeper than 100;
 * - a known field that arrives with another wire type than its declared type is an unknown
 *   field, as C++, Java, Go and upb treat it: it is dropped rather than reinterpreted.
 *
 * Returns the bytes unchanged when nothing was dropped (the usual case, no copy), else the
 * bytes without the dropped fields. Varints of 32-bit fields longer than 5 bytes are read
 * whole by `StrictReader`.
 */
export function checkWireFormat(type: protobuf.Type, bytes: Buffer, limits?: RequestFieldLimits): Buffer {
  // Most requests are smaller than a field may be and hold no zero byte at all: nothing to check per field then.
  const checks =
    limits && (bytes.length > limits.maxFieldBytes || (limits.refuseNullCharacters && bytes.indexOf(0) !== -1)) ? limits : undefined;
  return scanMessage(layoutOf(type), bytes, 0, bytes.length, 0, undefined, checks).rewritten ?? bytes;
}

/** Refuses a string or bytes value over `limits`, naming it. */
function checkText(field: FieldLayout, buf: Buffer, start: number, end: number, limits: RequestFieldLimits, path: FieldPath): void {
  if (end - start > limits.maxFieldBytes) {
    throw new RequestFieldError(pathText(path), `Ensure this field has no more than ${limits.maxFieldBytes} bytes (maxRequestFieldBytes).`);
  }
  if (field.text === 'string' && limits.refuseNullCharacters && buf.subarray(start, end).indexOf(0) !== -1) {
    throw new RequestFieldError(pathText(path), 'Null characters are not allowed.');
  }
}

interface Scanned {
  /** Where scanning stopped: the end of the body, or just after a group's end tag. */
  pos: number;
  /** Where the body ends (a group's end tag starts there). */
  bodyEnd: number;
  /** The body's bytes when a field inside was dropped, else null. */
  rewritten: Buffer | null;
}

const UNKNOWN: MessageLayout = new Map();

/**
 * Scans one message body, up to `end`, or for a group up to its end tag (which must carry the
 * group's field number).
 */
function scanMessage(
  layout: MessageLayout,
  buf: Buffer,
  start: number,
  end: number,
  depth: number,
  group?: number,
  limits?: RequestFieldLimits,
  parent?: FieldPath,
): Scanned {
  if (depth > MAX_DEPTH) throw new MalformedMessageError(`messages are nested more than ${MAX_DEPTH} deep`);
  const out = new Rewriter(buf, start);
  // With limits, how many values of each repeated field went before (to name one by its place).
  let counts: Map<number, number> | undefined;
  let pos = start;
  for (;;) {
    if (pos >= end) {
      if (group !== undefined) throw new MalformedMessageError('a group is not terminated');
      return { pos, bodyEnd: pos, rewritten: out.result(pos) };
    }
    const recordStart = pos;
    const [tag, afterTag] = readTag(buf, pos, end);
    pos = afterTag;
    const fieldNumber = tag >>> 3;
    const wireType = tag & 7;
    if (wireType === END_GROUP) {
      if (group === undefined) throw new MalformedMessageError('an end-group tag without a matching start-group tag');
      if (fieldNumber !== group) throw new MalformedMessageError('an end-group tag does not match its start-group tag');
      return { pos, bodyEnd: recordStart, rewritten: out.result(recordStart) };
    }
    const field = layout.get(fieldNumber);
    const known = field !== undefined && (field.wireTypes & (1 << wireType)) !== 0;
    let index: number | undefined;
    if (limits && known && field.repeated) {
      counts ??= new Map();
      index = counts.get(fieldNumber) ?? 0;
      counts.set(fieldNumber, index + 1);
    }
    if (wireType === LENGTH) {
      const [length, afterLength] = readLength(buf, pos, end);
      pos = afterLength + length;
      if (known && field.nested) {
        const inner = scanMessage(
          field.nested(),
          buf,
          afterLength,
          pos,
          depth + 1,
          undefined,
          limits,
          limits && { parent, name: field.name, index },
        ).rewritten;
        if (inner) out.replace(recordStart, pos, Buffer.concat([buf.subarray(recordStart, afterTag), encodeVarint(inner.length), inner]));
      } else if (limits && known && field.text) {
        checkText(field, buf, afterLength, pos, limits, { parent, name: field.name, index });
      }
    } else if (wireType === START_GROUP) {
      const nested = known && field.nested;
      const inner = nested
        ? scanMessage(field.nested!(), buf, pos, end, depth + 1, fieldNumber, limits, limits && { parent, name: field.name, index })
        : scanMessage(UNKNOWN, buf, pos, end, depth + 1, fieldNumber);
      if (inner.rewritten) out.replace(pos, inner.bodyEnd, inner.rewritten);
      pos = inner.pos;
    } else {
      pos = skipValue(buf, pos, end, wireType);
    }
    if (field !== undefined && !known) out.drop(recordStart, pos);
  }
}

/** Reads a tag: at most 5 bytes, a field number in 1..2^29-1 and a wire type in 0..5. */
function readTag(buf: Buffer, pos: number, end: number): [number, number] {
  const [lo, hi, next] = readVarint(buf, pos, end);
  if (hi !== 0 || next - pos > 5) throw new MalformedMessageError('a field tag is longer than 32 bits');
  const fieldNumber = lo >>> 3;
  const wireType = lo & 7;
  if (fieldNumber === 0 || fieldNumber > MAX_FIELD_NUMBER) throw new MalformedMessageError(`field number ${fieldNumber} is not allowed`);
  if (wireType > 5) throw new MalformedMessageError(`wire type ${wireType} does not exist`);
  return [lo, next];
}

function readLength(buf: Buffer, pos: number, end: number): [number, number] {
  const [lo, hi, next] = readVarint(buf, pos, end);
  if (hi !== 0 || lo > 0x7fffffff) throw new MalformedMessageError('a length is larger than 2^31-1');
  if (next - pos > 5) throw new MalformedMessageError('a length takes more than 5 bytes');
  if (next + lo > end) throw new MalformedMessageError('a length runs past the end of the message');
  return [lo, next];
}

/** Reads a varint of at most 10 bytes as its low and high 32 bits. */
function readVarint(buf: Buffer, pos: number, end: number): [number, number, number] {
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) throw new MalformedMessageError('the message ends inside a varint');
    const byte = buf[pos++];
    if (i < 4) lo |= (byte & 0x7f) << (i * 7);
    else if (i === 4) {
      lo |= (byte & 0x0f) << 28;
      hi |= (byte & 0x7f) >> 4;
    } else hi |= (byte & 0x7f) << (i * 7 - 32);
    if (byte < 0x80) return [lo >>> 0, hi >>> 0, pos];
  }
  throw new MalformedMessageError('a varint is longer than 10 bytes');
}

function skipValue(buf: Buffer, pos: number, end: number, wireType: number): number {
  const next = wireType === VARINT ? readVarint(buf, pos, end)[2] : pos + (wireType === FIXED64 ? 8 : 4);
  if (next > end) throw new MalformedMessageError('the message ends inside a fixed-width value');
  return next;
}

function encodeVarint(value: number): Buffer {
  const bytes: number[] = [];
  while (value > 0x7f) {
    bytes.push((value & 0x7f) | 0x80);
    value >>>= 7;
  }
  bytes.push(value);
  return Buffer.from(bytes);
}

/** Copies a message body with some byte ranges dropped or replaced; copies nothing until needed. */
class Rewriter {
  private chunks?: Buffer[];
  private copied: number;

  constructor(
    private readonly buf: Buffer,
    start: number,
  ) {
    this.copied = start;
  }

  drop(from: number, to: number): void {
    this.replace(from, to, undefined);
  }

  replace(from: number, to: number, replacement: Buffer | undefined): void {
    this.chunks ??= [];
    this.chunks.push(this.buf.subarray(this.copied, from));
    if (replacement) this.chunks.push(replacement);
    this.copied = to;
  }

  result(end: number): Buffer | null {
    if (!this.chunks) return null;
    this.chunks.push(this.buf.subarray(this.copied, end));
    return Buffer.concat(this.chunks);
  }
}

function layoutOf(type: protobuf.Type): MessageLayout {
  let layout = layouts.get(type);
  if (!layout) {
    const fields = new Map<number, FieldLayout>();
    layouts.set(type, fields);
    for (const field of type.fieldsArray) fields.set(field.id, fieldLayout(field));
    layout = fields;
  }
  return layout;
}

function fieldLayout(field: protobuf.Field): FieldLayout {
  field.resolve();
  if (field instanceof protobuf.MapField) {
    const entry = new Map<number, FieldLayout>([
      [1, { name: 'key', repeated: false, text: textKind(field.keyType), wireTypes: 1 << WIRE_TYPE_OF_SCALAR[field.keyType] }],
      [2, valueLayout('value', field.resolvedType, field.type, false)],
    ]);
    return { name: field.name, repeated: true, wireTypes: 1 << LENGTH, nested: () => entry };
  }
  return valueLayout(field.name, field.resolvedType, field.type, field.repeated, (field as { delimited?: boolean }).delimited);
}

function textKind(type: string): FieldLayout['text'] {
  return type === 'string' || type === 'bytes' ? type : undefined;
}

function valueLayout(
  name: string,
  resolved: protobuf.ReflectionObject | null,
  type: string,
  repeated: boolean,
  delimited = false,
): FieldLayout {
  if (resolved instanceof protobuf.Type) {
    const nested = (): MessageLayout => layoutOf(resolved);
    return { name, repeated, wireTypes: 1 << (delimited || (resolved as { group?: boolean }).group ? START_GROUP : LENGTH), nested };
  }
  const wireType = resolved instanceof protobuf.Enum ? VARINT : WIRE_TYPE_OF_SCALAR[type];
  // A repeated number may come packed (one length-delimited record) or one record per value.
  const packable = repeated && wireType !== LENGTH;
  return { name, repeated, text: textKind(type), wireTypes: (1 << wireType) | (packable ? 1 << LENGTH : 0) };
}
