/** Messages a stream may have waiting before its producer is asked to wait (grpc-js's own figure for a call's messages). */
export const QUEUE_HIGH_WATER_MARK = 16;

export interface MessageQueueOptions {
  /** `push` answers false once this many wait; `onDrain` follows when there is room again. */
  highWaterMark?: number;
  /** Runs when a queue that answered "full" has room again. */
  onDrain?: () => void;
}

/**
 * The queue between the two sides of a stream, wherever one side produces messages and the
 * other takes them (a web or in-process call's requests and responses, a bidi handler's
 * writes, interceptors' emissions): `push` says when the producer should wait (and `onDrain`
 * when it may go on), the taker awaits the next message, and `end` or `fail` close it after
 * what is queued. One primitive, so every stream has the same backpressure and ending rules.
 */
export class MessageQueue<T> implements AsyncIterable<T> {
  private items: (T | undefined)[] = [];
  private head = 0;
  private full = false;
  private closing?: { error?: unknown; failed: boolean };
  private wakeTaker?: () => void;
  private wakeDemand?: () => void;
  private readonly highWaterMark: number;
  private readonly onDrain?: () => void;

  constructor(options: MessageQueueOptions = {}) {
    this.highWaterMark = options.highWaterMark ?? QUEUE_HIGH_WATER_MARK;
    this.onDrain = options.onDrain;
  }

  get length(): number {
    return this.items.length - this.head;
  }

  /** Whether another message may be pushed without the producer being asked to wait. */
  get hasRoom(): boolean {
    return this.length < this.highWaterMark;
  }

  /** True once `end` or `fail` closed it: what is queued is still taken. */
  get closed(): boolean {
    return this.closing !== undefined;
  }

  /** Whether a taker is waiting on an empty queue (the producer is wanted). */
  get wanting(): boolean {
    return this.wakeTaker !== undefined;
  }

  /** Queues a message (dropped once closed); false when the producer should wait for `onDrain`. */
  push(item: T): boolean {
    if (this.closing) return true;
    this.items.push(item);
    this.wake();
    if (this.hasRoom) return true;
    this.full = true;
    return false;
  }

  /** The next message now, if one is queued. */
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head === this.items.length) this.items.length = this.head = 0;
    this.drained();
    return item;
  }

  /** Every message queued now. */
  takeAll(): T[] {
    const taken = this.items.slice(this.head) as T[];
    this.items.length = this.head = 0;
    this.drained();
    return taken;
  }

  /** No more messages: takers finish after what is queued. */
  end(): void {
    this.closing ??= { failed: false };
    this.wake();
  }

  /** Ends with an error, which takers receive after what is queued (also after `end`: the error says more). */
  fail(error: unknown): void {
    if (!this.closing?.failed) this.closing = { error, failed: true };
    this.wake();
  }

  /** Drops what is queued (the other side has gone). */
  clear(): void {
    this.items.length = this.head = 0;
    this.drained();
  }

  /** Resolves once a taker waits on an empty queue, or the queue closed. */
  wanted(): Promise<void> {
    if (this.wanting || this.closing) return Promise.resolve();
    return new Promise((resolve) => (this.wakeDemand = resolve));
  }

  /** The next message, waiting for one; done once the queue ended, rejected once it failed, after what is queued. */
  async next(): Promise<IteratorResult<T, undefined>> {
    for (;;) {
      if (this.length) return { done: false, value: this.shift()! };
      if (this.closing) {
        if (this.closing.failed) throw this.closing.error;
        return { done: true, value: undefined };
      }
      await this.untilPushed();
    }
  }

  /** Every message queued now, waiting for at least one; undefined once the queue ended. */
  async nextBatch(): Promise<T[] | undefined> {
    for (;;) {
      if (this.length) return this.takeAll();
      if (this.closing) {
        if (this.closing.failed) throw this.closing.error;
        return undefined;
      }
      await this.untilPushed();
    }
  }

  /** Takes the messages one by one. Ending the iteration early does not wait for a pending `next`. */
  [Symbol.asyncIterator](): AsyncIterator<T, undefined> {
    return {
      next: () => this.next(),
      return: () => Promise.resolve({ done: true, value: undefined }),
    };
  }

  private untilPushed(): Promise<void> {
    const arrived = new Promise<void>((resolve) => (this.wakeTaker = resolve));
    const demand = this.wakeDemand;
    this.wakeDemand = undefined;
    demand?.();
    return arrived;
  }

  private wake(): void {
    const taker = this.wakeTaker;
    this.wakeTaker = undefined;
    taker?.();
    if (this.closing) {
      const demand = this.wakeDemand;
      this.wakeDemand = undefined;
      demand?.();
    }
  }

  private drained(): void {
    if (!this.full || !this.hasRoom) return;
    this.full = false;
    this.onDrain?.();
  }
}
