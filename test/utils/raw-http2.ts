import * as http2 from 'node:http2';

/** A gRPC call made over plain HTTP/2, so a test controls what a grpc-js client would not let it (headers, reading pace). */
export interface RawCall {
  /** Messages received so far (gRPC frames' payloads). */
  messages: Buffer[];
  /** Resolves with the trailers (grpc-status, grpc-message) once the server ends the call, or with 'reset' when it resets the stream. */
  ended: Promise<Record<string, string> | 'reset'>;
  pause(): void;
  resume(): void;
  close(): void;
}

/** Frames a message as gRPC does: a flag byte (1: compressed), a 4-byte length, the bytes. */
export function frame(message: Buffer, flags = 0): Buffer {
  const header = Buffer.alloc(5);
  header[0] = flags;
  header.writeUInt32BE(message.length, 1);
  return Buffer.concat([header, message]);
}

export function rawCall(session: http2.ClientHttp2Session, path: string, message: Buffer, headers: Record<string, string> = {}): RawCall {
  const stream = session.request({
    ':method': 'POST',
    ':path': path,
    'content-type': 'application/grpc',
    te: 'trailers',
    ...headers,
  });
  const messages: Buffer[] = [];
  let pending = Buffer.alloc(0);
  stream.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 5 && pending.length >= 5 + pending.readUInt32BE(1)) {
      const length = pending.readUInt32BE(1);
      messages.push(pending.subarray(5, 5 + length));
      pending = pending.subarray(5 + length);
    }
  });
  const ended = new Promise<Record<string, string> | 'reset'>((resolve) => {
    let headersSeen: Record<string, string> = {};
    stream.on('response', (h) => {
      headersSeen = h as Record<string, string>;
      if (h['grpc-status'] !== undefined) resolve(h as Record<string, string>); // trailers-only
    });
    stream.on('trailers', (t) => resolve({ ...headersSeen, ...(t as Record<string, string>) }));
    stream.on('close', () => resolve(stream.rstCode && stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR ? 'reset' : headersSeen));
    stream.on('error', () => resolve('reset'));
  });
  stream.end(frame(message));
  return {
    messages,
    ended,
    pause: () => stream.pause(),
    resume: () => stream.resume(),
    close: () => stream.close(http2.constants.NGHTTP2_CANCEL),
  };
}
