import type { EntityManager } from '@mikro-orm/core';
import { CALL_STATE } from '../common/constants';
import type { CallContext } from '../call/call-context';
import { explainRefusal } from '../serializers/database-checks';

interface CallState {
  request: unknown;
  context: CallContext;
}

/**
 * The base of every service. Nest creates one instance; each call runs on a light view of it
 * (`Object.create(instance)`) that carries the call, so `this.request`, `this.context`,
 * `this.action` and `this.em` belong to the current call even when calls overlap.
 *
 * Write handlers as methods named after the rpcs:
 *
 * ```ts
 * @GrpcModelService('blog_proto.PostController')
 * export class PostService extends Service {
 *   async Retrieve(request: { id: number }) { ... }
 * }
 * ```
 *
 * @publicApi
 */
export class Service {
  declare [CALL_STATE]?: CallState;

  private get callState(): CallState {
    const state = this[CALL_STATE];
    if (!state) {
      throw new Error(
        `${this.constructor.name}: request, context, action and em exist only while a call is being served ` +
          '(inside a handler or a method it calls).',
      );
    }
    return state;
  }

  /** The request message of the current call (its type differs per rpc, hence `any`). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  get request(): any {
    return this.callState.request;
  }

  /** The current call: metadata, deadline, cancellation signal, EntityManager. */
  get context(): CallContext {
    return this.callState.context;
  }

  /** Who is calling, as the authenticators found it; null for an anonymous call (see `CallContext.user`). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  get user(): any {
    return this.callState.context.user;
  }

  /** The rpc being served, e.g. `Create`. */
  get action(): string {
    return this.callState.context.action;
  }

  /** The current call's EntityManager (a fork made for this call). */
  get em(): EntityManager {
    return this.callState.context.em;
  }

  /**
   * Runs `work` in a database transaction on this call's EntityManager: committed when it
   * resolves (and the call's deadline has not passed), rolled back when it throws, so a failed
   * write leaves the database as it was.
   * Inside an outer transaction (a test's, say) it uses a savepoint.
   */
  async inTransaction<R>(work: () => Promise<R>): Promise<R> {
    const em = this.em;
    const outer = em.getTransactionContext();
    await em.begin({ ctx: outer });
    try {
      const result = await work();
      // A caller that has been told DEADLINE_EXCEEDED must not find the write done after all.
      this.context.throwIfDeadlinePassed();
      await em.commit();
      return result;
    } catch (error) {
      // A rollback can fail too (e.g. the connection is gone); the first error is the one to report.
      await em.rollback().catch(() => undefined);
      // Ending a savepoint clears the context; the call goes on inside the outer transaction.
      if (outer) em.setTransactionContext(outer);
      throw await explainRefusal(error);
    } finally {
      if (outer) em.setTransactionContext(outer);
    }
  }
}

/** Makes the per-call view of a service instance. */
export function serviceView<S extends Service>(instance: S, request: unknown, context: CallContext): S {
  const view = Object.create(instance) as S;
  view[CALL_STATE] = { request, context };
  return view;
}
