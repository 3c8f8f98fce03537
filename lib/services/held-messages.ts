import { status } from '@grpc/grpc-js';
import { GrpcError } from '../errors/grpc-error';
import type { Reservation, StreamMemory } from '../call/stream-memory';

/**
 * The bytes of a client stream's messages that a handler keeps until it has written them
 * (BulkCreate validates every message before it writes any): at most `maxBytes` for one stream,
 * and, with List's rows, within the server's `streamMemoryBytes`. A stream that holds nothing
 * yet waits for room; one that holds some and finds none is RESOURCE_EXHAUSTED, since streams
 * waiting for each other's memory would wait until their deadlines.
 */
export class HeldMessages {
  private readonly reservations: Reservation[] = [];
  private bytes = 0;

  constructor(
    private readonly memory: StreamMemory | undefined,
    private readonly maxBytes: number,
    private readonly signal: AbortSignal,
  ) {}

  /** Counts one more message of `bytes`; throws RESOURCE_EXHAUSTED over the stream's or the server's limit. */
  async hold(bytes: number): Promise<void> {
    if (this.bytes + bytes > this.maxBytes) {
      throw new GrpcError(
        status.RESOURCE_EXHAUSTED,
        `A stream may send at most ${this.maxBytes} bytes of messages (maxBulkBytes); send the rest in another call.`,
      );
    }
    this.bytes += bytes;
    if (!this.memory) return;
    let reservation = this.memory.tryHold(bytes);
    if (!reservation && !this.reservations.length) {
      reservation = await this.memory.reserve(bytes, this.signal);
      reservation.resize(bytes);
    }
    if (!reservation) {
      throw new GrpcError(
        status.RESOURCE_EXHAUSTED,
        'The server holds as many streamed messages as it may (streamMemoryBytes); send this stream again later, or in smaller calls.',
      );
    }
    this.reservations.push(reservation);
  }

  /** Lets go of everything held (the messages were written, or the call failed). */
  release(): void {
    for (const reservation of this.reservations) reservation.release();
    this.reservations.length = 0;
    this.bytes = 0;
  }
}
