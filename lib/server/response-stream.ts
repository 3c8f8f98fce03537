import type { ServerDuplexStream, ServerWritableStream } from '@grpc/grpc-js';

/**
 * Bytes one response stream may have handed to grpc-js that have not gone out to the client
 * yet; past this the next message waits. grpc-js's own backpressure counts messages (16 of
 * any size), so a client that stops reading could otherwise make the server hold 16 large
 * messages per stream.
 */
export const STREAM_PENDING_BYTES = 256 * 1024;

/**
 * Writes one call's response messages, holding back while grpc-js has 16 messages queued (its
 * own backpressure) or `STREAM_PENDING_BYTES` that have not gone out.
 */
export class ResponseStream {
  private pending = 0;
  private queueFull = false;
  private waiting?: () => void;

  constructor(
    private readonly call: ServerWritableStream<Buffer, Buffer> | ServerDuplexStream<Buffer, Buffer>,
    private readonly signal: AbortSignal,
  ) {
    signal.addEventListener('abort', () => this.wake(), { once: true });
    call.on('drain', () => {
      this.queueFull = false;
      this.wakeIfRoom();
    });
  }

  /** Hands one encoded message to grpc-js; false when the next should wait for `room()`. */
  write(bytes: Buffer): boolean {
    const size = bytes.length;
    this.pending += size;
    // grpc-js calls back once HTTP/2 has taken the message, which flow control delays for a client that does not read.
    this.queueFull = !this.call.write(bytes, () => {
      this.pending -= size;
      this.wakeIfRoom();
    });
    return this.hasRoom();
  }

  /** Resolves once the client has taken enough, or the call is over. */
  room(): Promise<void> {
    if (this.hasRoom() || this.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => (this.waiting = resolve));
  }

  private hasRoom(): boolean {
    return !this.queueFull && this.pending <= STREAM_PENDING_BYTES;
  }

  private wakeIfRoom(): void {
    if (this.hasRoom()) this.wake();
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.();
  }
}

/** How many response streams run at once, on the server and on each client connection; past the caps, new ones are refused. */
export class StreamCounts {
  private total = 0;
  private readonly byConnection = new Map<string, number>();

  constructor(
    private readonly maxStreams: number,
    private readonly maxPerConnection: number,
  ) {}

  /** Counts a new stream from `peer`; a refusal message when a cap is reached. */
  enter(peer: string): string | undefined {
    const onConnection = this.byConnection.get(peer) ?? 0;
    if (this.total >= this.maxStreams) {
      return `The server already serves ${this.maxStreams} response streams (maxServerStreams); try again later.`;
    }
    if (onConnection >= this.maxPerConnection) {
      return `This connection already has ${this.maxPerConnection} response streams open (maxServerStreamsPerConnection); finish or cancel one first.`;
    }
    this.total++;
    this.byConnection.set(peer, onConnection + 1);
    return undefined;
  }

  leave(peer: string): void {
    this.total--;
    const left = (this.byConnection.get(peer) ?? 1) - 1;
    if (left > 0) this.byConnection.set(peer, left);
    else this.byConnection.delete(peer);
  }
}

/** What a server-streaming handler returned, as what it must be: an async iterable (an async generator) or an array. */
export function handlerMessages(result: unknown, path: string): AsyncIterable<unknown> | Iterable<unknown> {
  if (result && typeof result === 'object') {
    if (Symbol.asyncIterator in result) return result as AsyncIterable<unknown>;
    if (Symbol.iterator in result) return result as Iterable<unknown>;
  }
  throw new TypeError(`${path} is server streaming: its handler must return an async iterable (an async generator) or an array.`);
}
