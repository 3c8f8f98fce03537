import * as protobuf from 'protobufjs';
import { MalformedMessageError } from './strict-reader';

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
export function checkWireFormat(type: protobuf.Type, bytes: Buffer): Buffer {
  return scanMessage(layoutOf(type), bytes, 0, bytes.length, 0).rewritten ?? bytes;
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
function scanMessage(layout: MessageLayout, buf: Buffer, start: number, end: number, depth: number, group?: number): Scanned {
  if (depth > MAX_DEPTH) throw new MalformedMessageError(`messages are nested more than ${MAX_DEPTH} deep`);
  const out = new Rewriter(buf, start);
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
    if (wireType === LENGTH) {
      const [length, afterLength] = readLength(buf, pos, end);
      pos = afterLength + length;
      if (known && field.nested) {
        const inner = scanMessage(field.nested(), buf, afterLength, pos, depth + 1).rewritten;
        if (inner) out.replace(recordStart, pos, Buffer.concat([buf.subarray(recordStart, afterTag), encodeVarint(inner.length), inner]));
      }
    } else if (wireType === START_GROUP) {
      const inner = scanMessage(known && field.nested ? field.nested() : UNKNOWN, buf, pos, end, depth + 1, fieldNumber);
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
      [1, { wireTypes: 1 << WIRE_TYPE_OF_SCALAR[field.keyType] }],
      [2, valueLayout(field.resolvedType, field.type, false)],
    ]);
    return { wireTypes: 1 << LENGTH, nested: () => entry };
  }
  return valueLayout(field.resolvedType, field.type, field.repeated, (field as { delimited?: boolean }).delimited);
}

function valueLayout(resolved: protobuf.ReflectionObject | null, type: string, repeated: boolean, delimited = false): FieldLayout {
  if (resolved instanceof protobuf.Type) {
    const nested = (): MessageLayout => layoutOf(resolved);
    return { wireTypes: 1 << (delimited || (resolved as { group?: boolean }).group ? START_GROUP : LENGTH), nested };
  }
  const wireType = resolved instanceof protobuf.Enum ? VARINT : WIRE_TYPE_OF_SCALAR[type];
  // A repeated number may come packed (one length-delimited record) or one record per value.
  const packable = repeated && wireType !== LENGTH;
  return { wireTypes: (1 << wireType) | (packable ? 1 << LENGTH : 0) };
}
