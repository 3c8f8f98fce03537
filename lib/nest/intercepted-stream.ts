import { Observable } from 'rxjs';
import type { CallContext } from '../call/call-context';
import type { StreamEnhancers } from './nest-internals';
import { handlerMessages } from '../transport/response-stream';
import { MessageQueue } from '../call/message-queue';
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
  /** What the interceptors let through, until the transport takes it; the transport waiting on it is what pulls the handler on. */
  private readonly queue = new MessageQueue<unknown>({ highWaterMark: Infinity });

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
      next: (message) => this.queue.push(message),
      error: (error: unknown) => this.queue.fail(error),
      complete: () => this.queue.end(),
    });
    try {
      for await (const message of this.queue) yield message;
    } finally {
      subscription.unsubscribe();
    }
  }

  /** The handler's messages, the next batch pulled only when the transport wants more. */
  private sourceMessages(source: AsyncIterable<unknown> | Iterable<unknown>): Observable<unknown> {
    return new Observable((subscriber) => {
      const iterator = Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
      let stop!: () => void;
      const stopped = new Promise<'stopped'>((resolve) => (stop = () => resolve('stopped')));
      void (async () => {
        for (;;) {
          const next = await iterator.next();
          if (next.done) break;
          const batch: unknown[] = Array.isArray(next.value) ? next.value : [next.value];
          for (const message of batch) subscriber.next(message);
          // On once the transport waits with nothing to take (what was emitted went out, or an operator dropped or delayed it).
          if ((await Promise.race([this.queue.wanted(), stopped])) === 'stopped') return;
        }
        subscriber.complete();
      })().catch((error: unknown) => subscriber.error(error));
      return () => {
        stop();
        // Ends the handler's generator (a List stops reading the database).
        void Promise.resolve(iterator.return?.()).catch(() => undefined);
      };
    });
  }
}
