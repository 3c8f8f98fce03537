import * as path from 'node:path';
import { ProtoRegistry } from '../../lib/proto/proto-registry';
import { checkWireFormat, RequestFieldError, RequestFieldLimits } from '../../lib/proto/wire-format';

// Request decoding follows the official protobuf runtimes (C++, Java, Go, upb), not protobufjs's
// leniency. The cases come from protobuf's conformance suite (conformance/binary_json_conformance_suite.cc,
// named as there where a case exists) and from the encoding spec (protobuf.dev/programming-guides/encoding):
// a known field arriving with the wrong wire type is an unknown field.
const registry = ProtoRegistry.load([path.join(__dirname, '..', 'fixtures', 'protos', 'wire.proto')], [], { longs: String, enums: String });
const codec = registry.codec('wire.Scalars');
const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');
const decode = (bytes: string) => codec.decode(hex(bytes));

/** The varint of a 64-bit two's complement value. */
function varint(value: bigint): string {
  let v = BigInt.asUintN(64, value);
  const bytes: number[] = [];
  do {
    const low = Number(v & 0x7fn);
    v >>= 7n;
    bytes.push(v ? low | 0x80 : low);
  } while (v);
  return Buffer.from(bytes).toString('hex');
}

const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);

describe('decoding refuses malformed input', () => {
  it.each([
    ['IllegalZeroFieldNum_Case_0', `01${Buffer.from('DEADBEEF').toString('hex')}`],
    ['IllegalZeroFieldNum_Case_1', '020101'],
    ['IllegalZeroFieldNum_Case_2', '0304'],
    ['IllegalZeroFieldNum_Case_3', `05${Buffer.from('DEAD').toString('hex')}`],
    ['field number above 2^29-1', `${varint(((1n << 29n) << 3n) | 0n)}00`],
    ['wire type 6', '0e00'],
    ['wire type 7', '0f00'],
    ['PrematureEofBeforeKnownValue (varint)', '08'],
    ['PrematureEofInsideKnownValue (varint)', '0880'],
    ['PrematureEofInsideKnownValue (fixed32)', '4d0102'],
    ['PrematureEofInsideKnownValue (double)', '51010203'],
    ['PrematureEofInDelimitedDataForKnownNonRepeatedValue', '12056162'],
    ['PrematureEofInDelimitedDataForUnknownValue', '9a0305616263'],
    ['PrematureEofInsideUnknownValue', 'f80380'],
    ['PrematureEofInSubmessageValue', '320308'],
    ['PrematureEofInPackedField', '2a050102'],
    ['PrematureEofInPackedFieldValue', '2a0180'],
    ['a varint of 11 bytes', `08${'ff'.repeat(10)}01`],
    ['UnmatchedEndGroup', '0c'],
    ['UnmatchedEndGroupUnknown', 'a401'],
    ['UnmatchedEndGroupWithData', '08010c'],
    ['a group that does not end', 'a301'],
    ['an end-group tag of another field', 'a301ac01'],
    ['a length of 2^32-1', '12ffffffff0f'],
    ['a length of 2^32 (over 32 bits)', '128080808010'],
    ['invalid UTF-8 in a string', '1202c328'],
  ])('%s', (_name, bytes) => {
    expect(() => decode(bytes)).toThrow();
  });

  it('refuses messages nested deeper than 100', () => {
    expect(() => codec.decode(Buffer.concat([Buffer.from([0x62]), lengthOf(deep(101))]))).toThrow(/nested more than 100/);
    expect(codec.decode(Buffer.concat([Buffer.from([0x62]), lengthOf(deep(90))]))).toHaveProperty('tree.child.child');
  });
});

function deep(levels: number): Buffer {
  let body = Buffer.from('1001', 'hex'); // leaf = 1
  for (let i = 0; i < levels; i++) body = Buffer.concat([Buffer.from([0x0a]), lengthOf(body)]);
  return body;
}

function lengthOf(body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(varint(BigInt(body.length)), 'hex'), body]);
}

describe('decoding reads what the official runtimes read', () => {
  it.each([
    // ValidDataScalar.INT32: 64-bit varints keep their low 32 bits, and the next field is intact.
    ['INT32 from varint(kInt64Max)', `08${varint(INT64_MAX)}12026869`, { i32: -1, name: 'hi' }],
    ['INT32 from varint(kInt64Min + 1)', `08${varint(INT64_MIN + 1n)}12026869`, { i32: 1, name: 'hi' }],
    ['INT32 from varint(1 << 33)', `08${varint(1n << 33n)}`, { i32: 0 }],
    ['INT32 from varint((1 << 33) - 1)', `08${varint((1n << 33n) - 1n)}`, { i32: -1 }],
    ['INT32 from a 6-byte varint', '08a08280808000 12026869', { i32: 288, name: 'hi' }],
    ['UINT32 from varint(kInt64Max)', `38${varint(INT64_MAX)}12026869`, { u32: 4294967295, name: 'hi' }],
    ['UINT32 from varint(1 << 33)', `38${varint(1n << 33n)}`, { u32: 0 }],
    ['SINT32 from a 10-byte varint', `40${varint((1n << 32n) | 3n)}`, { s32: -2 }],
    ['BOOL from varint(1 << 33)', `20${varint(1n << 33n)}`, { flag: true }],
    ['BOOL from varint(kInt64Min)', `20${varint(INT64_MIN)}`, { flag: true }],
    ['INT64 from varint(kInt64Min)', `18${varint(INT64_MIN)}`, { i64: INT64_MIN.toString() }],
    ['ValidDataRepeated.INT32.UnpackedInput', '28012802', { nums: [1, 2] }],
    ['ValidDataRepeated.INT32.PackedInput', '2a020102', { nums: [1, 2] }],
    ['packed INT32 with a 10-byte negative element', `2a0b${varint(-1n)}05`, { nums: [-1, 5] }],
    ['packed and unpacked mixed', '28012a020203', { nums: [1, 2, 3] }],
    ['a known field with the wrong wire type is unknown (string sent as varint)', '120268691005', { name: 'hi' }],
    ['a known field with the wrong wire type is unknown (int32 sent length-delimited)', '0a0268690805', { i32: 5 }],
    ['the wrong wire type inside a submessage', '32040a020000', { inner: { a: 0, b: '' } }],
    ['the wrong wire type inside a submessage, then more', `3207 0a0200 00 120178 0803`, { inner: { a: 0, b: 'x' }, i32: 3 }],
    ['a map entry', '5a050a01611001', { counts: { a: 1 } }],
    ['the wrong wire type inside a map entry', '5a060a0161120178', { counts: { a: 0 } }],
    ['UnknownVarint', 'a81f01', {}],
    ['an unknown group, terminated', 'a30108019a0100a401', {}],
    ['a string sent as a group is unknown', '1308011412026869', { name: 'hi' }],
    ['the last of repeated non-repeated fields wins', '08010802', { i32: 2 }],
  ])('%s', (_name, bytes, expected) => {
    expect(decode(bytes)).toMatchObject(expected);
  });

  it('checks well-formed bytes without copying them', () => {
    const bytes = hex('08011202686932020801');
    expect(checkWireFormat(registry.root.lookupType('wire.Scalars'), bytes)).toBe(bytes);
    expect(codec.decode(bytes)).toMatchObject({ i32: 1, name: 'hi', inner: { a: 1 } });
  });
});

describe('request field limits', () => {
  const type = codec.type;
  const limits: RequestFieldLimits = { maxFieldBytes: 8, refuseNullCharacters: true };
  const encode = (message: object) => Buffer.from(type.encode(type.fromObject(message)).finish());
  const refusal = (message: object, given = limits) => {
    try {
      checkWireFormat(type, encode(message), given);
      return undefined;
    } catch (error) {
      if (!(error instanceof RequestFieldError)) throw error;
      return `${error.field}: ${error.description}`;
    }
  };

  it('names the string or bytes field over the limit or holding a NUL, by its path and place', () => {
    expect(refusal({ name: '123456789' })).toBe('name: Ensure this field has no more than 8 bytes (maxRequestFieldBytes).');
    expect(refusal({ name: 'a\u0000' })).toBe('name: Null characters are not allowed.');
    expect(refusal({ inner: { b: '\u0000' } })).toBe('inner.b: Null characters are not allowed.');
    expect(refusal({ items: [{ b: 'ok' }, { a: 1 }, { b: 'x\u0000' }] })).toBe('items[2].b: Null characters are not allowed.');
    expect(refusal({ tags: ['a', 'b', '\u0000'] })).toBe('tags[2]: Null characters are not allowed.');
    expect(refusal({ counts: { 'k\u0000': 1 } })).toBe('counts[0].key: Null characters are not allowed.');
    expect(refusal({ data: Buffer.alloc(9) })).toBe('data: Ensure this field has no more than 8 bytes (maxRequestFieldBytes).');
  });

  it('lets bytes hold zeros, numbers be zero, and a NUL through when allowed', () => {
    expect(refusal({ data: Buffer.alloc(8), nums: [0, 0], flag: false, i32: 256 })).toBeUndefined();
    expect(refusal({ name: '\u0000' }, { maxFieldBytes: 8, refuseNullCharacters: false })).toBeUndefined();
    expect(refusal({ name: '12345678', tags: ['12345678'] })).toBeUndefined();
  });
});
