import type { Metadata, ServerUnaryCall, ServerWritableStream, status } from '@grpc/grpc-js';

/** The grpc-js calls the framework serves. */
export type ServedCall = ServerUnaryCall<Buffer, Buffer> | ServerWritableStream<Buffer, Buffer>;
import type { EntityManager } from '@mikro-orm/core';
import { GrpcError } from '../errors/grpc-error';
import { ImproperlyConfiguredError } from '../errors/improperly-configured.error';

/**
 * The call a handler is serving: what grpc-js's `ServerSurfaceCall` offers, plus an
 * `AbortSignal` that fires when the client cancels or the deadline passes, and the call's
 * own MikroORM EntityManager.
 *
 * @publicApi
 */
export class CallContext {
  private abortController?: AbortController;
  private entityManager?: EntityManager;

  constructor(
    /** The grpc-js call. */
    readonly call: ServedCall,
    /** The rpc name, e.g. `Create`. */
    readonly action: string,
    /** The fully qualified service name, e.g. `blog_proto.PostController`. */
    readonly service: string,
    private readonly forkEntityManager?: () => EntityManager,
  ) {}

  /** The request metadata (headers). */
  get metadata(): Metadata {
    return this.call.metadata;
  }

  /** The call's deadline (`Infinity` when the client set none). */
  get deadline(): Date | number {
    return this.call.getDeadline();
  }

  /** True once the client cancelled or the deadline passed. */
  get cancelled(): boolean {
    return this.call.cancelled;
  }

  /** The client's address. */
  get peer(): string {
    return this.call.getPeer();
  }

  /** Fires when the call is cancelled by the client or by its deadline. Created on first use. */
  get signal(): AbortSignal {
    if (!this.abortController) {
      const controller = new AbortController();
      this.abortController = controller;
      if (this.call.cancelled) controller.abort();
      else this.call.once('cancelled', () => controller.abort());
    }
    return this.abortController.signal;
  }

  /** Ends the call with a status, like grpc's `context.abort(code, details)`: throws a `GrpcError`. */
  abort(code: status, details: string): never {
    throw new GrpcError(code, details);
  }

  /** Sends response headers before the first message. */
  sendMetadata(metadata: Metadata): void {
    this.call.sendMetadata(metadata);
  }

  /** This call's EntityManager: a fork of the application's, made on first use. */
  get em(): EntityManager {
    if (!this.entityManager) {
      if (!this.forkEntityManager) {
        throw new ImproperlyConfiguredError(
          'No MikroORM instance is available: import MikroOrmModule.forRoot(...) in the application module to use `em`.',
        );
      }
      this.entityManager = this.forkEntityManager();
    }
    return this.entityManager;
  }
}
