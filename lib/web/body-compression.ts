import { brotliDecompress, gunzip, InputType, ZlibOptions } from 'node:zlib';

/** The request compressions the web address reads (Connect and gRPC-Web name them alike). */
export type BodyEncoding = 'identity' | 'gzip' | 'br';

/** What an unsupported compression's refusal offers instead, in the `*-accept-encoding` header. */
export const ACCEPTED_ENCODINGS = 'gzip, br';

/** The compression a header names, or undefined for one the server does not read. */
export function bodyEncodingOf(header: string | undefined): BodyEncoding | undefined {
  if (header === undefined || header === '' || header === 'identity') return 'identity';
  return header === 'gzip' || header === 'br' ? header : undefined;
}

/** Why a compressed message was refused: too large once decompressed, or not a valid compressed stream. */
export class DecompressionError extends Error {
  constructor(
    message: string,
    readonly tooLarge: boolean,
  ) {
    super(message);
    this.name = 'DecompressionError';
  }
}

type Decompress = (input: InputType, options: ZlibOptions, done: (error: Error | null, result: Buffer) => void) => void;
const DECOMPRESS: Readonly<Record<Exclude<BodyEncoding, 'identity'>, Decompress>> = { gzip: gunzip, br: brotliDecompress };

/**
 * A compressed message's bytes, decompressed no further than `maxBytes` (a small body that
 * inflates past the message limit is refused, not held in memory).
 */
export function decompress(encoding: BodyEncoding, bytes: Buffer, maxBytes: number): Promise<Buffer> {
  if (encoding === 'identity') return Promise.resolve(bytes);
  return new Promise((resolve, reject) => {
    DECOMPRESS[encoding](bytes, { maxOutputLength: maxBytes }, (error, result) => {
      if (!error) return resolve(result);
      const tooLarge = (error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
      reject(
        new DecompressionError(
          tooLarge
            ? `The request message is larger than the server accepts once decompressed (${maxBytes} bytes, maxReceiveMessageLength).`
            : `The request message is not valid ${encoding} data: ${error.message}`,
          tooLarge,
        ),
      );
    });
  });
}
