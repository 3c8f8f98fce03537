import { fromBinary, fromJson, toBinary, toJson } from '@bufbuild/protobuf';
import type { DescMessage, JsonValue } from '@bufbuild/protobuf';
import * as path from 'node:path';
import { ProtoRegistry } from '../../lib/proto/proto-registry';
import { ProtoJson } from '../../lib/proto/proto-json';
import { descriptorPool } from '../utils/web-clients';

// The JSON mapping on protobufjs, checked against @bufbuild/protobuf's (which passes protobuf's
// conformance suite) on the same descriptors: the same JSON reads as the same message, the
// same bytes write as the same JSON, and what one refuses the other refuses.

const registry = ProtoRegistry.load([path.join(__dirname, '..', 'fixtures', 'protos', 'json-mapping.proto')], [], {
  longs: String,
  enums: String,
});
const schemas = descriptorPool(registry);
const json = new ProtoJson();

const typeOf = (name: string) => registry.root.lookupType(name);
const descOf = (name: string) => schemas.getMessage(name)!;

/** A message's bytes as bufbuild's JSON, for comparing two encodings of one message. */
const canonical = (desc: DescMessage, bytes: Uint8Array) =>
  toJson(desc, fromBinary(desc, bytes), { alwaysEmitImplicit: true, registry: schemas });

function expectSameReading(name: string, value: JsonValue): void {
  const desc = descOf(name);
  const ours = json.toBinary(typeOf(name), value);
  const theirs = toBinary(desc, fromJson(desc, value, { ignoreUnknownFields: false, registry: schemas }));
  expect(canonical(desc, ours)).toEqual(canonical(desc, theirs));
}

function expectSameWriting(name: string, value: JsonValue): void {
  const desc = descOf(name);
  const bytes = Buffer.from(toBinary(desc, fromJson(desc, value, { registry: schemas })));
  expect(json.toJson(typeOf(name), bytes)).toEqual(canonical(desc, bytes));
}

const SCALARS: JsonValue[] = [
  {},
  {
    anInt32: -5,
    anSint32: '-7',
    anSfixed32: 2147483647,
    anUint32: 4294967295,
    aFixed32: '12',
    anInt64: '-9223372036854775808',
    anSint64: 42,
    anSfixed64: '9223372036854775807',
    anUint64: '18446744073709551615',
    aFixed64: '1000',
    aFloat: 1.5,
    aDouble: 'NaN',
    aBool: true,
    aString: 'héllo',
    someBytes: 'AQID',
    shade: 'DARK',
    otherName: 'by json_name',
    maybe: 0,
    manyInt64: ['1', 2, '-3'],
    shades: ['LIGHT', 2, 7],
    inners: [{ number: 1 }, { label: 'two' }],
    inner: { number: 3, label: 'three' },
    chosenInner: { number: 4 },
  },
  { an_int32: 1, a_double: '-Infinity', a_float: 'Infinity', some_bytes: '-_8', renamed: 'by proto name', chosenText: '' },
  { anInt32: 1.0, anSint32: '12e2', anInt64: '-0', aDouble: '1.25', shade: 1, anUint32: 0, inner: {} },
];

const MAPS: JsonValue[] = [
  {
    byString: { a: 1, b: '2' },
    byInt32: { '-1': 'minus one', '7': 'seven' },
    byInt64: { '9223372036854775807': { number: 1 }, '-3': {} },
    byBool: { true: 'LIGHT' },
    byUint32: { '4294967295': 'AQI=' },
  },
];

const WELL_KNOWN: JsonValue[] = [
  {
    at: '2024-05-01T12:30:45.123Z',
    took: '-1.5s',
    mask: 'aBool,inner.number',
    meta: { a: 1, b: [true, null, 'x', { c: {} }] },
    anything: [1, 'two'],
    list: [null, 3.5],
    packed: { '@type': 'type.googleapis.com/jsonmapping.Inner', number: 5, label: 'packed' },
    nothing: {},
    doubleValue: 'NaN',
    floatValue: 1.25,
    int64Value: '-12',
    uint64Value: 13,
    int32Value: -14,
    uint32Value: '15',
    boolValue: false,
    stringValue: '',
    bytesValue: 'AA==',
    nullValue: null,
    times: ['1970-01-01T00:00:00Z', '0001-01-01T00:00:00Z', '9999-12-31T23:59:59.999999999Z', '2024-05-01T14:30:00.5+02:00'],
  },
  { anything: null, packed: { '@type': 'type.googleapis.com/google.protobuf.Duration', value: '3s' }, took: '0.000001s' },
  { anything: { nested: { deep: [1] } }, at: '2024-02-29T00:00:00.000001Z', took: '315576000000s', mask: '' },
  { packed: { '@type': 'type.googleapis.com/google.protobuf.Timestamp', value: '2000-01-01T00:00:00Z' }, nullValue: 'NULL_VALUE' },
];

const REFUSED: [string, JsonValue][] = [
  ['jsonmapping.Scalars', { colour: 'red' }],
  ['jsonmapping.Scalars', { anInt32: 2147483648 }],
  ['jsonmapping.Scalars', { anInt64: '12e2' }],
  ['jsonmapping.Scalars', { anInt32: ' 1' }],
  ['jsonmapping.Scalars', { anInt32: 1.5 }],
  ['jsonmapping.Scalars', { anUint32: -1 }],
  ['jsonmapping.Scalars', { anInt64: '9223372036854775808' }],
  ['jsonmapping.Scalars', { anUint64: '-1' }],
  ['jsonmapping.Scalars', { aFloat: 1e39 }],
  ['jsonmapping.Scalars', { aDouble: 'one' }],
  ['jsonmapping.Scalars', { aBool: 'true' }],
  ['jsonmapping.Scalars', { aString: 5 }],
  ['jsonmapping.Scalars', { someBytes: 'not base64!' }],
  ['jsonmapping.Scalars', { shade: 'PURPLE' }],
  ['jsonmapping.Scalars', { manyInt64: '1' }],
  ['jsonmapping.Scalars', { inners: [null] }],
  ['jsonmapping.Scalars', { inner: 5 }],
  ['jsonmapping.Scalars', { chosenText: 'a', chosenInner: {} }],
  ['jsonmapping.Scalars', { anInt32: 1, an_int32: 2 }],
  ['jsonmapping.Scalars', []],
  ['jsonmapping.Maps', { byInt32: { one: 'x' } }],
  ['jsonmapping.Maps', { byBool: { yes: 'LIGHT' } }],
  ['jsonmapping.Maps', { byString: [] }],
  ['jsonmapping.WellKnown', { at: '2024-05-01 12:30:45Z' }],
  ['jsonmapping.WellKnown', { at: '10000-01-01T00:00:00Z' }],
  ['jsonmapping.WellKnown', { took: '1.5' }],
  ['jsonmapping.WellKnown', { took: '315576000001s' }],
  ['jsonmapping.WellKnown', { mask: ['a'] }],
  ['jsonmapping.WellKnown', { meta: [1] }],
  ['jsonmapping.WellKnown', { packed: { '@type': 'type.googleapis.com/nowhere.Missing' } }],
  ['jsonmapping.WellKnown', { nothing: { a: 1 } }],
  ['jsonmapping.WellKnown', { int32Value: 'x' }],
];

describe('proto3 JSON on protobufjs', () => {
  it.each(SCALARS.map((value) => [JSON.stringify(value), value]))(
    'reads and writes scalars, enums, oneofs and nested messages: %s',
    (_, value) => {
      expectSameReading('jsonmapping.Scalars', value);
      expectSameWriting('jsonmapping.Scalars', value);
    },
  );

  it.each(MAPS.map((value) => [JSON.stringify(value), value]))('reads and writes maps of every key type: %s', (_, value) => {
    expectSameReading('jsonmapping.Maps', value);
    expectSameWriting('jsonmapping.Maps', value);
  });

  it.each(WELL_KNOWN.map((value) => [JSON.stringify(value), value]))('reads and writes the well-known types: %s', (_, value) => {
    expectSameReading('jsonmapping.WellKnown', value);
    expectSameWriting('jsonmapping.WellKnown', value);
  });

  it.each(REFUSED.map(([name, value]) => [name, JSON.stringify(value), value]))(
    'refuses what bufbuild refuses: %s %s',
    (name, _, value) => {
      const desc = descOf(name);
      expect(() => toBinary(desc, fromJson(desc, value, { ignoreUnknownFields: false, registry: schemas }))).toThrow();
      expect(() => json.toBinary(typeOf(name), value)).toThrow();
    },
  );

  // Where @bufbuild/protobuf is lenient: integers in hexadecimal, a day that does not exist.
  it.each([
    ['jsonmapping.Scalars', { anInt32: '0x1' }],
    ['jsonmapping.Scalars', { anInt64: '0b1' }],
    ['jsonmapping.WellKnown', { at: '2024-02-30T00:00:00Z' }],
    // protobufjs encodes every key of a bool-keyed map as true.
    ['jsonmapping.Maps', { byBool: { false: 'LIGHT' } }],
  ] as const)('refuses %s %j', (name, value) => {
    expect(() => json.toBinary(typeOf(name), value)).toThrow();
  });

  it('names the field, by its JSON path, and what was wrong with it', () => {
    const message = (value: JsonValue) => {
      try {
        json.toBinary(typeOf('jsonmapping.Scalars'), value);
      } catch (error) {
        return (error as Error).message;
      }
      throw new Error('the JSON was read');
    };
    expect(message({ inners: [{}, { number: '0x2' }] })).toBe(
      `inners[1].number: must be a decimal integer (proto3's JSON mapping), not "0x2"`,
    );
    expect(message({ colour: 'red' })).toBe('colour: not a field of jsonmapping.Scalars');
    expect(message({ shade: 'PURPLE' })).toBe('shade: "PURPLE" is not a value of enum jsonmapping.Shade');
  });
});
