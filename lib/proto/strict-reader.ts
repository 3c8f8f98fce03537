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
 * A protobuf reader that refuses invalid UTF-8 in `string` fields. proto3 forbids it, and
 * protobufjs would otherwise decode it into U+FFFD and let it be stored mangled. The
 * generated decoders pass the reader down to nested messages, so one check covers them all.
 */
export class StrictUtf8Reader extends protobuf.BufferReader {
  override string(): string {
    const bytes = this.bytes() as Buffer;
    if (!isUtf8(bytes)) {
      throw new MalformedMessageError('a string field holds invalid UTF-8 (proto3 strings must be valid UTF-8)');
    }
    return bytes.toString('utf8');
  }
}
