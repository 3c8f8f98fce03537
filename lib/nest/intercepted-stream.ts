import { Observable } from 'rxjs';
import type { CallContext } from '../call/call-context';
import type { StreamEnhancers } from './nest-internals';
import { handlerMessages } from '../transport/response-stream';
import type { Invoke, RpcRequest } from '../transport/bound-rpc';

/**
 * A server stream through guards and interceptors that see its messages one by one
 * (`interceptedStream`); `args` are what guards and interceptors receive, and `run` calls the handler.
 */
export function interceptedInvoke(
  enhancers: StreamEnhancers,
  run: (request: RpcRequest, context: CallContext) => unknown,
  path: string,
  args: (request: RpcRequest, context: CallContext) => unknown[] = (request, context) => [request, context],
): Invoke {
  return async (request, context) => {
    const handlerArgs = args(request, context);
    await enhancers.guard(handlerArgs);
    return interceptedStream(
      (next) => enhancers.intercept(handlerArgs, next),
      async () => {
        const result = await run(request, context);
        return result instanceof Observable ? result : handlerMessages(result, path);
      },
    );
  };
}

/** Runs Nest's interceptors around a handler's messages and resolves with what they make of them. */
export type Intercept = (messages: () => Promise<Observable<unknown>>) => Promise<unknown>;

/**
 * A server stream as Nest interceptors see it: the handler's messages as an Observable, one
 * emission per message (a batch the handler yields is emitted message by message), so `map`,
 * `tap` and `timeout` work per message. Backpressure is kept: the handler's next batch is
 * pulled only when the transport has taken every message the interceptors let through (or
 * none is on its way: a `filter` dropped it), as it is without interceptors.
 */
export function interceptedStream(
  intercept: Intercept,
  handle: () => Promise<AsyncIterable<unknown> | Iterable<unknown> | Observable<unknown>>,
): AsyncIterable<unknown> {
  return {
    [Symbol.asyncIterator]: () => new InterceptedStream(intercept, handle).messages(),
  };
}

class InterceptedStream {
  private readonly queue: unknown[] = [];
  private head = 0;
  private ended = false;
  private failure?: { error: unknown };
  /** The transport waits here for the next message. */
  private wakeTransport?: () => void;
  /** The handler's iteration waits here for the transport to want more. */
  private wakeSource?: () => void;

  constructor(
    private readonly intercept: Intercept,
    private readonly handle: () => Promise<AsyncIterable<unknown> | Iterable<unknown> | Observable<unknown>>,
  ) {}

  async *messages(): AsyncGenerator<unknown> {
    // The handler runs when the first interceptor's next.handle() is subscribed to; its Observable passes as it is.
    const intercepted = await this.intercept(async () => {
      const result = await this.handle();
      return result instanceof Observable ? result : this.sourceMessages(result);
    });
    const output =
      intercepted instanceof Observable
        ? intercepted
        : new Observable((subscriber) => {
            // An interceptor that answers without calling the handler (a cache, say) answers with values, not a stream.
            subscriber.next(intercepted);
            subscriber.complete();
          });
    const subscription = output.subscribe({
      next: (message) => {
        this.queue.push(message);
        this.wake('transport');
      },
      error: (error: unknown) => {
        this.failure = { error };
        this.wake('transport');
      },
      complete: () => {
        this.ended = true;
        this.wake('transport');
      },
    });
    try {
      for (;;) {
        if (this.head < this.queue.length) {
          const message = this.queue[this.head];
          this.queue[this.head++] = undefined;
          yield message;
          continue;
        }
        this.queue.length = this.head = 0;
        if (this.failure) throw this.failure.error;
        if (this.ended) return;
        const arrived = new Promise<void>((resolve) => (this.wakeTransport = resolve));
        this.wake('source');
        await arrived;
      }
    } finally {
      subscription.unsubscribe();
    }
  }

  /** The handler's messages, the next batch pulled only when the transport wants more. */
  private sourceMessages(source: AsyncIterable<unknown> | Iterable<unknown>): Observable<unknown> {
    return new Observable((subscriber) => {
      const iterator = Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
      let stopped = false;
      void (async () => {
        for (;;) {
          const next = await iterator.next();
          if (stopped) return;
          if (next.done) break;
          const batch: unknown[] = Array.isArray(next.value) ? next.value : [next.value];
          for (const message of batch) subscriber.next(message);
          // Nothing reached the transport (dropped, or delayed by an operator) while it waits: pull on.
          if (this.wakeTransport && this.head >= this.queue.length) continue;
          await new Promise<void>((resolve) => (this.wakeSource = resolve));
          if (stopped) return;
        }
        subscriber.complete();
      })().catch((error: unknown) => subscriber.error(error));
      return () => {
        stopped = true;
        this.wake('source');
        // Ends the handler's generator (a List stops reading the database).
        void Promise.resolve(iterator.return?.()).catch(() => undefined);
      };
    });
  }

  private wake(which: 'transport' | 'source'): void {
    const resolve = which === 'transport' ? this.wakeTransport : this.wakeSource;
    if (which === 'transport') this.wakeTransport = undefined;
    else this.wakeSource = undefined;
    resolve?.();
  }
}
