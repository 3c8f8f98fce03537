import { connectivityState, Deadline, Metadata, status, StatusObject } from '@grpc/grpc-js';
import type { ChannelInterface as Channel, InterceptingListener } from '@grpc/grpc-js';
import type { GrpcFrameworkServer } from '../module/grpc-framework.server';
import type { Answer } from '../call/call-port';
import { MessageQueue } from '../call/message-queue';
import { BridgedServerCall, statusOfError } from '../transport/bridged-server-call';
import { internalsOf } from '../transport/server-internals';

// grpc-js exports the interface a channelOverride implements, not the call a channel makes.
type Call = ReturnType<Channel['createCall']>;
type MessageContext = Parameters<Call['sendMessageWithContext']>[0];

const PEER = 'in-process';
const IN_PROCESS_PEER = { peer: PEER };

let callNumber = 0;

/**
 * A grpc-js `Channel` that hands each call straight to the framework's handlers: the same
 * decoding, Nest guards and interceptors, serializers, error mapping and per-call
 * EntityManager as over a socket, with no port. Give it to any grpc-js client, generated
 * stubs included, through the `channelOverride` client option.
 */
export class InProcessChannel implements Channel {
  private closed = false;

  constructor(private readonly server: GrpcFrameworkServer) {}

  close(): void {
    this.closed = true;
  }

  getTarget(): string {
    return PEER;
  }

  getConnectivityState(): connectivityState {
    return this.closed ? connectivityState.SHUTDOWN : connectivityState.READY;
  }

  watchConnectivityState(_state: connectivityState, _deadline: Date | number, callback: (error?: Error) => void): void {
    setImmediate(() => callback());
  }

  getChannelzRef(): ReturnType<Channel['getChannelzRef']> {
    return { kind: 'channel', id: 0, name: PEER } as ReturnType<Channel['getChannelzRef']>;
  }

  createCall(method: string, deadline: Deadline): Call {
    return new InProcessCall(this.server, method, deadline);
  }
}

/** The client side of one call; it plays the server call to the handler. */
class InProcessCall implements Call {
  private listener?: InterceptingListener;
  private metadata = new Metadata();
  private request?: Buffer;
  /** Response messages the client has not read yet, with the server write's callback (it has gone out once read). */
  private readonly pending = new MessageQueue<{ bytes: Buffer; delivered?: (error?: Error) => void }>({
    onDrain: () => this.serverCall?.drained(),
  });
  private readsWanted = 0;
  private headersSent = false;
  private finalStatus?: StatusObject;
  private finished = false;
  private serverCall?: BridgedServerCall;
  private deadlineTimer?: NodeJS.Timeout;
  /** Whether the rpc takes a request stream (its server call is made at start). */
  private streamsRequests = false;
  private readonly number = ++callNumber;

  constructor(
    private readonly server: GrpcFrameworkServer,
    private readonly method: string,
    private readonly deadline: Deadline,
  ) {}

  start(metadata: Metadata, listener: InterceptingListener): void {
    this.metadata = metadata;
    this.listener = listener;
    const type = internalsOf(this.server).handlerFor(this.method)?.type;
    this.streamsRequests = type === 'clientStream' || type === 'bidi';
    // A request stream reaches the handler message by message: it starts now, not at half-close.
    if (this.streamsRequests) this.dispatch();
  }

  sendMessageWithContext(context: MessageContext, message: Buffer): void {
    if (!this.streamsRequests) {
      this.request = message;
      context.callback?.();
      return;
    }
    if (this.finished || this.finalStatus || !this.serverCall) return;
    if (this.exceedsReceiveLimit(message)) return;
    // The client's write completes when the handler has room for the message: its backpressure.
    this.serverCall.pushRequest(message, () => context.callback?.());
  }

  halfClose(): void {
    if (this.streamsRequests) setImmediate(() => this.serverCall?.endRequests());
    else setImmediate(() => this.dispatch());
  }

  startRead(): void {
    this.readsWanted++;
    this.flush();
  }

  cancelWithStatus(code: status, details: string): void {
    this.serverCall?.cancel();
    this.finish({ code, details, metadata: new Metadata() }, true);
  }

  getPeer(): string {
    return PEER;
  }

  getCallNumber(): number {
    return this.number;
  }

  setCredentials(): void {}

  getAuthContext(): null {
    return null;
  }

  /** Ends the call with RESOURCE_EXHAUSTED, as grpc-js does, for a message over `maxReceiveMessageLength`. */
  private exceedsReceiveLimit(message: Buffer): boolean {
    const limit = internalsOf(this.server).options.maxReceiveMessageLength;
    if (limit < 0 || message.length <= limit) return false;
    this.serverCall?.cancel();
    this.finish(
      {
        code: status.RESOURCE_EXHAUSTED,
        details: `Received message larger than max (${message.length} vs. ${limit})`,
        metadata: new Metadata(),
      },
      true,
    );
    return true;
  }

  private dispatch(): void {
    if (this.finished || this.finalStatus) return;
    const entry = internalsOf(this.server).handlerFor(this.method);
    if (!entry) {
      this.finish({
        code: status.UNIMPLEMENTED,
        details: `The server does not implement the method ${this.method}`,
        metadata: new Metadata(),
      });
      return;
    }
    const request = this.request ?? Buffer.alloc(0);
    if (this.exceedsReceiveLimit(request)) return;
    const serverCall = new BridgedServerCall(
      request,
      this.metadata,
      this.deadline,
      this.method,
      {
        headers: (metadata) => this.sendHeaders(metadata),
        message: (bytes, delivered) => this.push(bytes, delivered),
        status: (s) => this.finish(s),
        hasRoom: () => this.pending.hasRoom,
      },
      IN_PROCESS_PEER,
    );
    this.serverCall = serverCall;
    this.armDeadline();
    const answer: Answer = (error, value) => {
      if (error) this.finish(statusOfError(error));
      else {
        this.push(value as Buffer);
        this.finish({ code: status.OK, details: 'OK', metadata: new Metadata() });
      }
    };
    switch (entry.type) {
      case 'unary':
        entry.handler(serverCall, answer);
        break;
      case 'serverStream':
        entry.handler(serverCall);
        break;
      case 'clientStream':
        entry.handler(serverCall, answer);
        break;
      case 'bidi':
        entry.handler(serverCall);
        break;
    }
  }

  private armDeadline(): void {
    const at = this.deadline instanceof Date ? this.deadline.getTime() : this.deadline;
    if (!Number.isFinite(at)) return;
    this.deadlineTimer = setTimeout(
      () => {
        // The status first: cancelling lets the handler answer, and the first answer wins.
        this.finish({ code: status.DEADLINE_EXCEEDED, details: 'Deadline exceeded', metadata: new Metadata() }, true);
        this.serverCall?.cancel();
      },
      Math.max(0, at - Date.now()),
    );
  }

  private sendHeaders(metadata: Metadata = new Metadata()): void {
    if (this.headersSent) return;
    this.headersSent = true;
    this.listener?.onReceiveMetadata(metadata);
  }

  private push(bytes: Buffer, delivered?: (error?: Error) => void): void {
    if (this.finished) return;
    this.pending.push({ bytes, delivered });
    this.flush();
  }

  private finish(s: StatusObject, now = false): void {
    if (this.finalStatus) return;
    this.finalStatus = s;
    clearTimeout(this.deadlineTimer);
    if (now) this.pending.clear(); // cancelled or timed out: what was not read is dropped
    this.flush();
  }

  /** Delivers what the client asked for, in order: headers, messages, then the status. */
  private flush(): void {
    if (this.finished || !this.listener) return;
    if (!this.pending.length && !this.finalStatus) return;
    this.sendHeaders();
    while (this.readsWanted > 0 && this.pending.length) {
      this.readsWanted--;
      const { bytes, delivered } = this.pending.shift()!;
      this.listener.onReceiveMessage(bytes);
      delivered?.();
    }
    if (this.finalStatus && !this.pending.length) {
      this.finished = true;
      const listener = this.listener;
      const final = this.finalStatus;
      setImmediate(() => listener.onReceiveStatus(final));
    }
  }
}
