import type { Metadata } from '@grpc/grpc-js';
import { EventEmitter } from 'node:events';
import type { CallContext } from '../call/call-context';
import type { RequestStream } from '../call/request-stream';
import { MessageQueue } from '../call/message-queue';

/**
 * The call a `@GrpcStreamCall` handler receives, as Nest's gRPC transport gives it the grpc-js
 * call: request messages as `'data'` events (decoded, from the first `'data'` listener on, or
 * through `for await`), then `'end'`; `'cancelled'` when the client goes away; `write()` and
 * `end()` for a bidi call's responses, which the framework sends as a server stream's, with
 * backpressure (`write()` returns false past `QUEUE_HIGH_WATER_MARK` waiting, `'drain'` follows).
 */
export class PassThroughCall extends EventEmitter {
  private started = false;
  /** The handler's response messages (bidi), until the framework writes them. */
  private readonly queue = new MessageQueue<unknown>({ onDrain: () => this.emit('drain') });

  constructor(
    private readonly requests: RequestStream,
    private readonly context: CallContext,
  ) {
    super();
    this.on('newListener', (event: string) => {
      if (event === 'data' && !this.started) setImmediate(() => this.pump());
    });
  }

  get metadata(): Metadata {
    return this.context.metadata;
  }

  get cancelled(): boolean {
    return this.context.cancelled;
  }

  getPeer(): string {
    return this.context.peer;
  }

  getDeadline(): Date | number {
    return this.context.deadline;
  }

  sendMetadata(metadata: Metadata): void {
    this.context.sendMetadata(metadata);
  }

  [Symbol.asyncIterator](): AsyncIterator<unknown> {
    this.started = true;
    return this.requests[Symbol.asyncIterator]();
  }

  /** Queues a response message (bidi); false once the client is behind, until `'drain'`. */
  write(message: unknown, callback?: () => void): boolean {
    const room = this.queue.push(message);
    callback?.();
    return room;
  }

  /** Ends the responses (bidi). */
  end(): void {
    this.queue.end();
  }

  /** Ends the responses with the handler's error. @internal */
  fail(error: unknown): void {
    this.queue.fail(error);
  }

  /** The responses as the framework writes them. @internal */
  async *responses(): AsyncGenerator<unknown> {
    // Each batch is an array: written as a batch, each message as the client has room.
    for (let batch = await this.queue.nextBatch(); batch; batch = await this.queue.nextBatch()) yield batch;
  }

  private async pump(): Promise<void> {
    if (this.started) return;
    this.started = true;
    try {
      for await (const message of this.requests) this.emit('data', message);
      this.emit('end');
    } catch (error) {
      if (this.context.cancelled) this.emit('cancelled', 'cancelled');
      else if (this.listenerCount('error')) this.emit('error', error);
    }
  }
}
