/**
 * The length-prefixed framing gRPC, gRPC-Web and Connect share: a flags byte, the length in four
 * bytes (big-endian), then the bytes. Flags 0 is an uncompressed message; gRPC-Web's trailers
 * are 0x80 and Connect's end of stream 0x02.
 */
export function messageFrame(flags: number, payload: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(5 + payload.length);
  frame[0] = flags;
  frame.writeUInt32BE(payload.length, 1);
  payload.copy(frame, 5);
  return frame;
}

/** Uncompressed messages framed one after another in one buffer (one write for many); `framedBytes` is their length with 5 bytes each for the prefix. */
export function dataFrames(messages: readonly Buffer[], framedBytes: number): Buffer {
  const frames = Buffer.allocUnsafe(framedBytes);
  let at = 0;
  for (const message of messages) {
    frames[at] = 0;
    frames.writeUInt32BE(message.length, at + 1);
    message.copy(frames, at + 5);
    at += message.length + 5;
  }
  return frames;
}
