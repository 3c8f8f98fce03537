import * as path from 'node:path';
import { ProtoRegistry } from 'nestjs-grpc-framework';

const registry = ProtoRegistry.load([path.join(__dirname, '..', 'fixtures', 'protos', 'codec.proto')], [], {
  longs: String,
  enums: String,
});
const codec = registry.codec('codec.Everything');

describe('message codec', () => {
  it('gives handlers proto3 defaults with field names as written', () => {
    expect(codec.decode(codec.encode({}))).toEqual({
      id: 0,
      name: '',
      tags: [],
      color: 'COLOR_UNSPECIFIED',
      big: '0',
      created_at: undefined,
      nick: undefined,
      language: undefined,
      meta: undefined,
      child: undefined,
    });
  });

  it('round-trips wrappers, Timestamps, nullable oneofs, Struct, enums, int64 and nested messages', () => {
    const createdAt = new Date('2024-02-03T04:05:06.789Z');
    const message = {
      id: 1,
      name: 'n',
      tags: ['a', 'b'],
      color: 'BLUE',
      big: 9007199254740993n,
      created_at: createdAt,
      nick: '',
      language: null,
      meta: { a: 1, b: [true, null, 'x'], c: { d: 'e' } },
      child: { id: 2, nick: 'kid', created_at: createdAt },
      optional_note: 'set',
    };
    const decoded = codec.decode(codec.encode(message));
    expect(decoded).toMatchObject({
      id: 1,
      tags: ['a', 'b'],
      color: 'BLUE',
      big: '9007199254740993',
      created_at: createdAt,
      nick: '',
      language: null,
      meta: { a: 1, b: [true, null, 'x'], c: { d: 'e' } },
      child: { id: 2, nick: 'kid', created_at: createdAt },
      optional_note: 'set',
    });
    expect(decoded).not.toHaveProperty('_optional_note');
    expect(codec.decode(codec.encode({ language: 'ts' })).language).toBe('ts');
  });

  it('accepts ISO strings and epoch milliseconds for Timestamps, as some drivers return dates', () => {
    const at = new Date('2024-05-06T07:08:09.010Z');
    expect(codec.decode(codec.encode({ created_at: at.toISOString() })).created_at).toEqual(at);
    expect(codec.decode(codec.encode({ created_at: at.getTime() })).created_at).toEqual(at);
  });

  it('keeps an unset proto3 optional field absent', () => {
    expect(codec.decode(codec.encode({ id: 1 }))).not.toHaveProperty('optional_note');
  });

  it('refuses invalid UTF-8 and malformed bytes', () => {
    expect(() => codec.decode(Buffer.from([0x12, 0x01, 0xff]))).toThrow('invalid UTF-8');
    expect(() => codec.decode(Buffer.from([0x12, 0x05, 0x61]))).toThrow();
  });
});
