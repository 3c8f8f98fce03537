import { Metadata, status } from '@grpc/grpc-js';
import type { EntityManager } from '@mikro-orm/core';
import { GrpcError } from '../errors/grpc-error';
import { ImproperlyConfiguredError } from '../errors/improperly-configured.error';
import type { MessageCodec } from '../proto/message-codec';
import type { CallPort } from './call-port';
import type { PageTokens } from './page-token';
import type { ResponseRoom } from './response-room';
import type { StreamMemory } from './stream-memory';
import type { RequestRecordStore } from './request-record-store';

/** The metadata a write answers with and a read echoes to see it (read-your-writes with replicas): epoch milliseconds. */
export const WRITTEN_AT_KEY = 'x-written-at';

/** Why a call's signal aborted; shared, as they carry nothing of the call (an Error made per call costs its stack). */
const CANCELLED = new GrpcError(status.CANCELLED, 'Cancelled by the client');
const DEADLINE_EXCEEDED = new GrpcError(status.DEADLINE_EXCEEDED, 'Deadline exceeded');

/** What `getObject()` asks about each object it finds, for the permissions that check objects (`CallAccess`). @internal */
export interface ObjectAccess {
  /** Whether objects are checked when found (`checkObject` has work). */
  readonly checksObjects: boolean;
  /** Refuses `object` unless every permission allows it; `notFound` is the error that hides it. */
  checkObject(call: CallContext, service: object, object: object, notFound: () => Error): Promise<void>;
}

/** What every call of one rpc shares, made once when the server starts. @internal */
export interface RpcSetup {
  /** The rpc name, e.g. `Create`. */
  readonly action: string;
  /** The fully qualified service name, e.g. `blog_proto.PostController`. */
  readonly serviceName: string;
  readonly response: MessageCodec;
  /** `maxSendMessageLength`. */
  readonly maxResponseBytes: number;
  /** The deadline a call gets when its client set none, or a later one (`callTimeoutMs`; unary calls). */
  readonly defaultTimeoutMs?: number;
  /** Shared by all rpcs of a server (tests swap the EntityManager factory in it). */
  readonly environment: {
    forkEntityManager?: () => EntityManager;
    /** The application's EntityManager, for reads that need no unit of work; unset while tests bind calls to a transaction. */
    readEntityManager?: EntityManager;
    memory?: StreamMemory;
    /** Signs and reads List page tokens. */
    pageTokens?: PageTokens;
    /** Idempotent writes' stored responses (`request_id`). */
    requestRecords?: RequestRecordStore;
    /** How long after its write a caller's reads stay on the primary (`readYourWritesMs`; 0 without replicas). */
    readYourWritesMs?: number;
    /** MikroORM has read replicas: a read a replica cannot serve is tried again on the primary. */
    readsReplicas?: boolean;
  };
}

/**
 * The call a handler is serving: what grpc-js's `ServerSurfaceCall` offers, plus an
 * `AbortSignal` that fires when the client cancels or the deadline passes, and the call's
 * own MikroORM EntityManager.
 *
 * @publicApi
 */
export class CallContext {
  private abortController?: AbortController;
  private deadlineTimer?: NodeJS.Timeout;
  private entityManager?: EntityManager;
  private encoded?: { message: unknown; bytes: Buffer };
  private trailers?: Metadata;
  /** When the call's deadline passes, in epoch milliseconds (`Infinity` without one). */
  readonly deadlineAt: number;
  /**
   * Who is calling, as the service's authenticators found it (a JWT's user, a certificate's
   * subject...); null for an anonymous call. Set before guards and permissions run.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  user: any = null;
  /** Who may make this call: checked before the handler, asked again about objects `getObject()` finds. @internal */
  access?: ObjectAccess;
  /**
   * A server stream's room for more: how much its client takes now. A handler that reads no
   * more than this before it yields holds nothing while its client does not read (List reads
   * this way). Undefined for calls that do not stream responses.
   */
  responseRoom?: ResponseRoom;
  /**
   * Turns what a custom action's handler returns into its response message (the action's
   * response serializer), so a write that stores its response for retries stores that. @internal
   */
  serializeResponse?: (value: unknown) => Promise<unknown>;
  private replayed?: unknown;

  /** @internal Made by the call handlers, one per call. */
  constructor(
    /** The call as its transport carries it (a grpc-js server call, or a web or in-process one). */
    readonly call: CallPort,
    private readonly rpc: RpcSetup,
  ) {
    const deadline = call.getDeadline();
    const fromClient = deadline instanceof Date ? deadline.getTime() : deadline;
    this.deadlineAt = rpc.defaultTimeoutMs === undefined ? fromClient : Math.min(fromClient, Date.now() + rpc.defaultTimeoutMs);
  }

  /** The rpc name, e.g. `Create`. */
  get action(): string {
    return this.rpc.action;
  }

  /** The fully qualified service name, e.g. `blog_proto.PostController`. */
  get serviceName(): string {
    return this.rpc.serviceName;
  }

  /** The message type this rpc responds with. */
  get responseType(): MessageCodec['type'] {
    return this.rpc.response.type;
  }

  /** The largest response message this server sends (`maxSendMessageLength`). */
  get maxResponseBytes(): number {
    return this.rpc.maxResponseBytes;
  }

  /** The server's signer of List page tokens. @internal */
  get pageTokens(): PageTokens {
    const tokens = this.rpc.environment.pageTokens;
    if (!tokens) throw new ImproperlyConfiguredError('This call has no page token signer: serve it through GrpcFrameworkModule.');
    return tokens;
  }

  /** The server's budget for rows held by response streams (see `StreamMemory`). @internal */
  get streamMemory(): StreamMemory | undefined {
    return this.rpc.environment.memory;
  }

  /**
   * Encodes a response message now, refusing one larger than the server sends
   * (`maxSendMessageLength`) with RESOURCE_EXHAUSTED. Writes call it before they commit, so a
   * write whose answer could not be sent is rolled back instead of stored unannounced; the
   * bytes are kept and sent as they are.
   */
  encodeResponse(message: unknown): Buffer {
    const encoded = this.encoded;
    if (encoded && encoded.message === message) return encoded.bytes;
    const bytes = this.rpc.response.encode(message);
    if (bytes.length > this.rpc.maxResponseBytes) {
      throw new GrpcError(
        status.RESOURCE_EXHAUSTED,
        `The response would be ${bytes.length} bytes, more than this server sends (maxSendMessageLength ${this.rpc.maxResponseBytes}).`,
      );
    }
    this.encoded = { message, bytes };
    return bytes;
  }

  /**
   * The response a write's first call stored (an idempotent retry's answer): decoded for
   * whatever reads it on the way out, and sent as the very bytes stored. @internal
   */
  replayResponse(bytes: Buffer): unknown {
    const message = this.rpc.response.decode(bytes);
    this.encoded = { message, bytes };
    this.replayed = message;
    return message;
  }

  /** Whether `value` is a stored response being replayed (a response serializer leaves it as it is). @internal */
  isReplay(value: unknown): boolean {
    return value !== undefined && value === this.replayed;
  }

  /**
   * Whether this call's reads go to the primary rather than a replica: its client wrote less
   * than `readYourWritesMs` ago, as the `x-written-at` metadata it echoes from that write says.
   * @internal
   */
  get readsPrimary(): boolean {
    const windowMs = this.rpc.environment.readYourWritesMs;
    if (!windowMs) return false;
    const writtenAt = Number(this.metadata.get(WRITTEN_AT_KEY)[0]);
    return Number.isFinite(writtenAt) && Date.now() - writtenAt < windowMs;
  }

  /** Whether reads go to replicas (MikroORM's `replicas`), so a read that found its replica down is tried on the primary. @internal */
  get readsReplicas(): boolean {
    return !!this.rpc.environment.readsReplicas;
  }

  /** Whether writes tell their client when they committed (`readYourWritesMs` with replicas). @internal */
  get marksWrites(): boolean {
    return !!this.rpc.environment.readYourWritesMs;
  }

  /** Tells the client when its write committed (`x-written-at`), to echo on reads that must see it. @internal */
  markWritten(): void {
    if (this.marksWrites) this.trailingMetadata.set(WRITTEN_AT_KEY, String(Date.now()));
  }

  /** The server's store of idempotent writes' responses. @internal */
  get requestRecords(): RequestRecordStore | undefined {
    return this.rpc.environment.requestRecords;
  }

  /**
   * Refuses with RESOURCE_EXHAUSTED, before anything is written, a response that would not fit
   * in `maxSendMessageLength` even without the `headroom` bytes still to come (generated keys
   * and timestamps).
   */
  assertResponseFits(message: unknown, headroom: number): void {
    const size = this.rpc.response.encode(message).length + headroom;
    if (size > this.rpc.maxResponseBytes) {
      throw new GrpcError(
        status.RESOURCE_EXHAUSTED,
        `The response would be about ${size} bytes, more than this server sends (maxSendMessageLength ${this.rpc.maxResponseBytes}); nothing was written.`,
      );
    }
  }

  /** The request metadata (headers). */
  get metadata(): Metadata {
    return this.call.metadata;
  }

  /** The call's deadline: the client's, or the server's `callTimeoutMs` when sooner (`Infinity` for none). */
  get deadline(): Date | number {
    return Number.isFinite(this.deadlineAt) ? new Date(this.deadlineAt) : Infinity;
  }

  /** Throws DEADLINE_EXCEEDED once the deadline has passed: writes call it before they commit. */
  throwIfDeadlinePassed(): void {
    if (this.deadlineExceeded) {
      throw new GrpcError(status.DEADLINE_EXCEEDED, 'The deadline passed before the write was committed; nothing was written.');
    }
  }

  /** True once the client cancelled or the deadline passed. */
  get cancelled(): boolean {
    return this.call.cancelled || this.deadlineExceeded;
  }

  /** True once the deadline has passed. */
  get deadlineExceeded(): boolean {
    return (
      Date.now() >= this.deadlineAt || (this.abortController?.signal.reason as GrpcError | undefined)?.code === status.DEADLINE_EXCEEDED
    );
  }

  /** The client's address. */
  get peer(): string {
    return this.call.getPeer();
  }

  /**
   * Fires when the client cancels or the deadline passes; its `reason` is a `GrpcError` with
   * CANCELLED or DEADLINE_EXCEEDED. Created on first use.
   */
  get signal(): AbortSignal {
    if (!this.abortController) {
      const controller = new AbortController();
      this.abortController = controller;
      if (this.deadlineExceeded) controller.abort(DEADLINE_EXCEEDED);
      else if (this.call.cancelled) controller.abort(CANCELLED);
      else {
        // grpc-js also reports 'cancelled' when a unary call has been answered: one shared reason, no Error per call.
        this.call.once('cancelled', () => controller.abort(CANCELLED));
        if (Number.isFinite(this.deadlineAt)) {
          this.deadlineTimer = setTimeout(() => controller.abort(DEADLINE_EXCEEDED), this.deadlineAt - Date.now());
          this.deadlineTimer.unref();
        }
      }
    }
    return this.abortController.signal;
  }

  /** Lets go of the deadline timer; the transport calls it when the call has ended. */
  release(): void {
    clearTimeout(this.deadlineTimer);
  }

  /** Ends the call with a status, like grpc's `context.abort(code, details)`: throws a `GrpcError`. */
  abort(code: status, details: string): never {
    throw new GrpcError(code, details);
  }

  /**
   * Trailing metadata the call ends with, after its last message (List's `next-page-token`).
   * Set it before the handler returns (for a stream: before its last message has been yielded).
   */
  get trailingMetadata(): Metadata {
    return (this.trailers ??= new Metadata());
  }

  /** The trailing metadata set so far, if any. @internal */
  get trailingMetadataIfSet(): Metadata | undefined {
    return this.trailers;
  }

  /** Sends response headers before the first message. */
  sendMetadata(metadata: Metadata): void {
    this.call.sendMetadata(metadata);
  }

  /**
   * An EntityManager for reads that need no unit of work or identity map (columns read straight
   * into messages): the call's own if it has one, else the application's, so such a call
   * forks none. @internal
   */
  get readEm(): EntityManager {
    return this.entityManager ?? this.rpc.environment.readEntityManager ?? this.em;
  }

  /** This call's EntityManager: a fork of the application's, made on first use. */
  get em(): EntityManager {
    if (!this.entityManager) {
      const fork = this.rpc.environment.forkEntityManager;
      if (!fork) {
        throw new ImproperlyConfiguredError(
          'No MikroORM instance is available: import MikroOrmModule.forRoot(...) in the application module to use `em`.',
        );
      }
      this.entityManager = fork();
    }
    return this.entityManager;
  }
}
