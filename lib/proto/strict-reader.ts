import { isUtf8 } from 'node:buffer';
import * as protobuf from 'protobufjs';

/** Thrown for request bytes that are not a valid encoding of the expected message. */
export class MalformedMessageError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'MalformedMessageError';
  }
}

/**
 * A protobuf reader that reads as the official runtimes do where protobufjs differs (the
 * generated decoders pass it down to nested messages, so it covers them all):
 *
 * - invalid UTF-8 in a `string` field is refused (proto3 forbids it; protobufjs would store
 *   U+FFFD);
 * - a 32-bit varint (int32, uint32, sint32, enum) is read whole, up to 10 bytes, keeping its low
 *   32 bits; protobufjs assumes 5 or 10 bytes and would swallow what follows a 6 to 9 byte one;
 * - a `bool` is true when any bit of its varint is set.
 *
 * Structure (tags, wire types, lengths, groups) is checked before, by `checkWireFormat`.
 */
export class StrictReader extends protobuf.BufferReader {
  override string(): string {
    const bytes = this.bytes() as Buffer;
    if (!isUtf8(bytes)) {
      throw new MalformedMessageError('a string field holds invalid UTF-8 (proto3 strings must be valid UTF-8)');
    }
    return bytes.toString('utf8');
  }

  override uint32(): number {
    let value = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.len) throw new MalformedMessageError('the message ends inside a varint');
      const byte = this.buf[this.pos++];
      if (i < 4) value |= (byte & 0x7f) << (i * 7);
      else if (i === 4) value |= (byte & 0x0f) << 28;
      if (byte < 0x80) return value >>> 0;
    }
    throw new MalformedMessageError('a varint is longer than 10 bytes');
  }

  override bool(): boolean {
    let any = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.len) throw new MalformedMessageError('the message ends inside a varint');
      const byte = this.buf[this.pos++];
      any |= byte & 0x7f;
      if (byte < 0x80) return any !== 0;
    }
    throw new MalformedMessageError('a varint is longer than 10 bytes');
  }
}
