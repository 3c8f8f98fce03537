import type { CallProtocol } from './server-metrics';
import { Deadline, Metadata, ServiceError, status, StatusObject } from '@grpc/grpc-js';
import { EventEmitter } from 'node:events';
import { MessageQueue } from '../call/message-queue';
import { GrpcError } from '../errors/grpc-error';
import type { PeerAuth, RequestMessagePort, RequestStreamPort, ResponseStreamPort } from '../call/call-port';

/** Where a bridged call's answer goes: the client side of the bridge. */
export interface CallSink {
  headers(metadata?: Metadata): void;
  /** A response message; `delivered` runs once it has gone out (a server write's callback). */
  message(bytes: Buffer, delivered?: (error?: Error) => void): void;
  status(s: StatusObject): void;
  /** Whether the client side can take another message before `drained()`. */
  hasRoom(): boolean;
}

/** Who made a bridged call. */
export interface CallPeer {
  /** What `call.getPeer()` answers: it keys the per-connection stream cap. */
  peer: string;
  /** The TLS the call came over, with the client's certificate on a mutual TLS connection. */
  auth?: PeerAuth;
  /** How the call arrived, as metrics label it. @default 'in-process' */
  protocol?: CallProtocol;
}

/**
 * What a grpc-js server call offers the framework's handlers, played by something other than
 * grpc-js: the in-process test channel and the gRPC-Web / Connect transports. The handlers
 * see the same call either way, so every path runs one pipeline.
 */
export class BridgedServerCall extends EventEmitter implements RequestMessagePort, RequestStreamPort, ResponseStreamPort {
  cancelled = false;
  /** Set once the handler has ended the response (OK or an error). */
  writableEnded = false;
  private waitingForDrain = false;
  /** The request messages of a client-streaming or bidi call (made on first use: unary calls have none). */
  private requestQueue?: MessageQueue<Buffer>;
  /** Completes the client's write that found the request stream full. */
  private pendingAck?: () => void;

  constructor(
    readonly request: Buffer,
    readonly metadata: Metadata,
    private readonly deadline: Deadline,
    private readonly path: string,
    private readonly sink: CallSink,
    private readonly from: CallPeer,
  ) {
    super();
    // A server stream ends with an error by emitting it on the call.
    this.on('error', (error: Partial<ServiceError>) => {
      this.writableEnded = true;
      this.sink.status(statusOfError(error));
    });
  }

  getDeadline(): Deadline {
    return this.deadline;
  }

  getPeer(): string {
    return this.from.peer;
  }

  /** How the call arrived (a grpc-js call has no such property: its calls are `grpc`). */
  get protocol(): CallProtocol {
    return this.from.protocol ?? 'in-process';
  }

  /** The client's TLS, as the web address's connection has it (none in process). */
  getAuthContext(): PeerAuth {
    return this.from.auth ?? {};
  }

  getPath(): string {
    return this.path;
  }

  sendMetadata(metadata: Metadata): void {
    this.sink.headers(metadata);
  }

  write(bytes: Buffer, delivered?: (error?: Error) => void): boolean {
    this.sink.message(bytes, delivered);
    const room = this.sink.hasRoom();
    if (!room) this.waitingForDrain = true;
    return room;
  }

  end(metadata?: Metadata): void {
    this.writableEnded = true;
    this.sink.status({ code: status.OK, details: 'OK', metadata: metadata ?? new Metadata() });
  }

  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.emit('cancelled', 'cancelled');
    this.requestQueue?.clear();
    this.requestQueue?.fail(CANCELLED);
    this.takeAck();
  }

  /** The request messages, read as the handler takes them (ending the iteration early leaves the call open either way). */
  iterator(_options: { destroyOnReturn: boolean }): AsyncIterator<Buffer> {
    return this.requests[Symbol.asyncIterator]();
  }

  /** A request message from the client; `ack` runs once the stream has room for the next. */
  pushRequest(bytes: Buffer, ack: () => void): void {
    if (this.cancelled || this.requests.closed) return ack(); // nobody reads any more: the write completes, as grpc-js's does
    if (this.requests.push(bytes)) ack();
    else this.pendingAck = ack;
  }

  private get requests(): MessageQueue<Buffer> {
    this.requestQueue ??= new MessageQueue({ onDrain: () => this.takeAck() });
    return this.requestQueue;
  }

  /** The client half-closed: no more request messages. */
  endRequests(): void {
    this.requests.end();
  }

  /** The client side has room again: a server stream waiting for 'drain' goes on. */
  drained(): void {
    if (!this.waitingForDrain) return;
    this.waitingForDrain = false;
    setImmediate(() => this.emit('drain'));
  }

  private takeAck(): void {
    const ack = this.pendingAck;
    this.pendingAck = undefined;
    ack?.();
  }
}

/** What reading a cancelled call's requests throws (the handler's signal says the same). */
const CANCELLED = new GrpcError(status.CANCELLED, 'Cancelled by the client');

/** The status a handler's error carries. */
export function statusOfError(error: Partial<ServiceError>): StatusObject {
  return {
    code: error.code ?? status.UNKNOWN,
    details: error.details ?? error.message ?? '',
    metadata: error.metadata ?? new Metadata(),
  };
}
