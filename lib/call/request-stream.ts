import { status } from '@grpc/grpc-js';
import { GrpcError, ValidationFailedError } from '../errors/grpc-error';
import { MalformedMessageError } from '../proto/strict-reader';
import { RequestFieldError } from '../proto/wire-format';

/**
 * The request messages of a client-streaming or bidi call, as the handler receives them: an
 * async iterable, decoded one message at a time as the handler asks. The transport reads a
 * message from the client only when the one before has been taken (grpc-js reads on demand),
 * so a slow handler slows its client. It throws CANCELLED or DEADLINE_EXCEEDED (the signal's
 * reason) when the call ends early, and INVALID_ARGUMENT, naming the message, for one that
 * cannot be decoded. It can be iterated once.
 *
 * @publicApi
 */
export class RequestStream<T = Record<string, unknown>> implements AsyncIterable<T> {
  private taken = false;
  /** How many messages the handler has received so far. */
  received = 0;
  /** The size of the last message received, in bytes as the client sent it. */
  lastMessageBytes = 0;

  /** @internal */
  constructor(
    private readonly source: AsyncIterable<Buffer>,
    private readonly decode: (bytes: Buffer) => T,
    private readonly signal: AbortSignal,
    private readonly typeName: string,
  ) {}

  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    if (this.taken) throw new Error('A request stream can be iterated only once.');
    this.taken = true;
    const signal = this.signal;
    const iterator = this.source[Symbol.asyncIterator]();
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(signal.reason);
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    aborted.catch(() => undefined); // raced below; unobserved otherwise
    try {
      for (;;) {
        // The transport's own error for a stream it ended (a premature close) says less than the signal.
        const next = await Promise.race([iterator.next(), aborted]).catch((error: unknown) => {
          throw signal.aborted ? signal.reason : error;
        });
        if (next.done) {
          // Node's HTTP/2 client ends its half of a stream just before it resets it on cancel:
          // wait for the reset to be seen, so a cancelled upload is not taken for a complete one.
          await new Promise((resolve) => setTimeout(resolve, 0));
          if (signal.aborted) throw signal.reason;
          return;
        }
        this.received++;
        this.lastMessageBytes = next.value.length;
        yield this.decoded(next.value);
      }
    } finally {
      signal.removeEventListener('abort', onAbort!);
      // A handler that stops early leaves the rest unread: the transport lets go of it.
      await iterator.return?.();
    }
  }

  private decoded(bytes: Buffer): T {
    try {
      return this.decode(bytes);
    } catch (error) {
      // Named by the message's place in the stream, as BulkCreate names its validation errors.
      if (error instanceof RequestFieldError) {
        throw new ValidationFailedError([
          { field: `items[${this.received - 1}].${error.field}`, description: error.description, reason: 'INVALID' },
        ]);
      }
      const reason = error instanceof MalformedMessageError ? error.message : 'it could not be decoded';
      throw new GrpcError(
        status.INVALID_ARGUMENT,
        `Message ${this.received} of the request stream is not a valid ${this.typeName} message: ${reason}.`,
      );
    }
  }
}
