/** One length-prefixed message of a Connect or gRPC-Web stream: a flags byte, then its data. */
export interface Envelope {
  flags: number;
  data: Buffer;
}

/** A frame whose announced length passes the message limit. */
export class EnvelopeTooLargeError extends Error {
  constructor(length: number, maxBytes: number) {
    super(`A request message of ${length} bytes is larger than the server accepts (${maxBytes} bytes, maxReceiveMessageLength).`);
    this.name = 'EnvelopeTooLargeError';
  }
}

/**
 * Splits a request body into its envelopes as it arrives, chunk by chunk: a frame is joined
 * only once it is whole, and one announcing more than the message limit is refused before
 * its data is read.
 */
export class EnvelopeReader {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly maxMessageBytes: number) {}

  /** The envelopes this chunk completes, in order. */
  push(chunk: Buffer): Envelope[] {
    this.chunks.push(chunk);
    this.size += chunk.length;
    const envelopes: Envelope[] = [];
    while (this.size >= 5) {
      if (this.chunks[0].length < 5) this.join();
      const length = this.chunks[0].readUInt32BE(1);
      if (length > this.maxMessageBytes) throw new EnvelopeTooLargeError(length, this.maxMessageBytes);
      if (this.size < 5 + length) break;
      const whole = this.join();
      envelopes.push({ flags: whole[0], data: whole.subarray(5, 5 + length) });
      const rest = whole.subarray(5 + length);
      this.chunks = rest.length ? [rest] : [];
      this.size = rest.length;
    }
    return envelopes;
  }

  /** Whether the body stopped inside a frame. */
  get partial(): boolean {
    return this.size > 0;
  }

  private join(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.size)];
    return this.chunks[0];
  }
}
