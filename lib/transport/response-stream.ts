import type { ResponseStreamPort } from '../call/call-port';
import { dataFrames } from '../proto/message-frames';
import type { ResponseRoom } from '../call/response-room';
import { publishStreamState } from './diagnostics';
import { FramedResponseWriter, framedResponseWriterOf } from './grpc-js-internals';

/**
 * Bytes one response stream may have handed to grpc-js that have not gone out to the client
 * yet; past this the next message waits. grpc-js's own backpressure counts messages (16 of
 * any size), so a client that stops reading could otherwise make the server hold 16 large
 * messages per stream.
 */
export const STREAM_PENDING_BYTES = 256 * 1024;

/**
 * The bytes of messages written to the HTTP/2 stream at once when they can be framed by the
 * framework: one write per 32 KiB (about 300 List rows) instead of one per message.
 */
export const FRAMED_WRITE_BYTES = 32 * 1024;

/**
 * Writes one call's response messages, holding back while the transport has a full queue
 * (grpc-js's 16 messages, or the HTTP/2 stream's buffer) or `STREAM_PENDING_BYTES` that have
 * not gone out. When grpc-js lets it (`framedResponseWriterOf`), messages are framed here and
 * written several at a time: `write` collects them, `flush` sends what it holds, and the
 * caller flushes whenever it is about to wait (for room, or for its next messages).
 */
export class ResponseStream implements ResponseRoom {
  private pending = 0;
  private queueFull = false;
  private waiting?: () => void;
  /** The most bytes pending that wake `waiting`. */
  private wakeAt = STREAM_PENDING_BYTES;
  private readonly framed?: FramedResponseWriter;
  private held: Buffer[] = [];
  private heldBytes = 0;

  constructor(
    private readonly call: ResponseStreamPort,
    private readonly signal: AbortSignal,
    private readonly rpc: string,
  ) {
    signal.addEventListener('abort', () => this.wake(), { once: true });
    const drained = () => {
      this.queueFull = false;
      this.wakeIfRoom();
    };
    this.framed = framedResponseWriterOf(call);
    if (this.framed) this.framed.onDrain(drained);
    else call.on('drain', drained);
  }

  /** Whether the next message can be written now; else wait for `room()` first. */
  get hasRoom(): boolean {
    return !this.queueFull && this.pending <= STREAM_PENDING_BYTES;
  }

  get bytes(): number {
    return this.queueFull ? 0 : Math.max(0, STREAM_PENDING_BYTES - this.pending - this.heldBytes);
  }

  /** Hands one encoded message to the transport (or holds it for the next write). */
  write(bytes: Buffer): void {
    if (this.framed) {
      this.held.push(bytes);
      this.heldBytes += bytes.length + 5;
      if (this.heldBytes >= FRAMED_WRITE_BYTES) this.flush();
      return;
    }
    const size = bytes.length;
    this.pending += size;
    // grpc-js calls back once HTTP/2 has taken the message, which flow control delays for a client that does not read.
    this.queueFull = !this.call.write(bytes, () => this.taken(size));
  }

  /** Sends the messages held for a framed write. */
  flush(): void {
    const framed = this.framed;
    if (!framed || !this.held.length) return;
    const frames = dataFrames(this.held, this.heldBytes);
    this.held = [];
    this.heldBytes = 0;
    // A stream grpc-js has ended (cancelled, its deadline) takes nothing more; the signal ends the writing.
    if (!framed.open) return;
    const size = frames.length;
    this.pending += size;
    this.queueFull = !framed.write(frames, () => this.taken(size));
  }

  /** Resolves once the client has taken enough to write the next message, or the call is over (what is held is sent first). */
  room(): Promise<void> {
    return this.untilPendingAtMost(STREAM_PENDING_BYTES);
  }

  wait(bytes: number): Promise<void> {
    return this.untilPendingAtMost(STREAM_PENDING_BYTES - Math.min(bytes, STREAM_PENDING_BYTES));
  }

  private untilPendingAtMost(most: number): Promise<void> {
    this.flush();
    if ((!this.queueFull && this.pending <= most) || this.signal.aborted) return Promise.resolve();
    this.wakeAt = most;
    publishStreamState(this.rpc, 'waiting');
    return new Promise((resolve) => (this.waiting = resolve));
  }

  private taken(size: number): void {
    this.pending -= size;
    this.wakeIfRoom();
  }

  private wakeIfRoom(): void {
    if (!this.queueFull && this.pending <= this.wakeAt) this.wake();
  }

  private wake(): void {
    const waiting = this.waiting;
    if (!waiting) return;
    this.waiting = undefined;
    publishStreamState(this.rpc, 'writing');
    waiting();
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
