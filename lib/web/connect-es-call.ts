import { Code, ConnectError } from '@connectrpc/connect';
import type { HandlerContext } from '@connectrpc/connect';
import { Metadata, status, StatusObject } from '@grpc/grpc-js';
import { decodeStatusDetails, STATUS_DETAILS_KEY } from '../errors/status-details';
import type { Answer } from '../call/call-port';
import { BridgedServerCall, CallPeer, CallSink, statusOfError } from '../transport/bridged-server-call';
import { headersOfMetadata, metadataOfHeaders } from './web-metadata';
import { MessageQueue } from '../call/message-queue';

interface PendingMessage {
  bytes: Buffer;
  delivered?: (error?: Error) => void;
}

/**
 * One call connect-es answers (a client or bidi stream, a compressed body, a GET), played to a framework handler as a grpc-js server call (see
 * `BridgedServerCall`): the request's headers become its metadata, its timeout its deadline,
 * and the client's abort its cancellation; the handler's messages, metadata and status come
 * back as Connect's response, headers, trailers and `ConnectError`.
 */
export class ConnectEsCall implements CallSink {
  readonly call: BridgedServerCall;
  /** The handler's response messages, waiting for Connect to take them. */
  private readonly queue: MessageQueue<PendingMessage>;
  private final?: StatusObject;
  private headersSent = false;

  constructor(
    path: string,
    request: Buffer,
    private readonly context: HandlerContext,
    peer: CallPeer,
  ) {
    const timeout = context.timeoutMs();
    const deadline = timeout === undefined ? Infinity : Date.now() + timeout;
    this.call = new BridgedServerCall(request, metadataOfHeaders(context.requestHeader), deadline, path, this, peer);
    this.queue = new MessageQueue({ onDrain: () => this.call.drained() });
    // Connect aborts the signal when a call ends however it ended: only an unfinished call is cancelled.
    context.signal.addEventListener('abort', () => this.abandon(), { once: true });
  }

  headers(metadata?: Metadata): void {
    if (this.headersSent) return;
    this.headersSent = true;
    if (metadata) headersOfMetadata(metadata, this.context.responseHeader);
  }

  message(bytes: Buffer, delivered?: (error?: Error) => void): void {
    this.queue.push({ bytes, delivered });
  }

  status(s: StatusObject): void {
    if (this.final) return;
    this.final = s;
    this.queue.end();
  }

  hasRoom(): boolean {
    return this.queue.hasRoom;
  }

  /** The answer of a unary or client-streaming handler, as grpc-js's `sendUnaryData` callback. */
  answer: Answer = (error, value, trailers) => {
    if (error) this.status(statusOfError(error));
    else {
      if (value) this.message(value);
      this.status({ code: status.OK, details: 'OK', metadata: trailers ?? new Metadata() });
    }
  };

  /** The handler's single response, once it has answered. */
  async response(): Promise<Buffer> {
    for await (const bytes of this.messages()) return bytes;
    throw new ConnectError('The handler answered without a message.', Code.Internal);
  }

  /**
   * The handler's response messages as the HTTP response takes them: the next is awaited only
   * when Connect asks for it, which is when the previous one was written.
   */
  async *messages(): AsyncGenerator<Buffer> {
    for await (const next of this.queue) {
      next.delivered?.();
      yield next.bytes;
    }
    // The queue ends with the status.
    if (this.final!.code !== status.OK) throw connectErrorOf(this.final!);
    headersOfMetadata(this.final!.metadata, this.context.responseTrailer);
  }

  /** Ends the call with the request stream's failure and cancels the handler. */
  fail(error: ConnectError): void {
    this.status({ code: error.code as number, details: error.rawMessage, metadata: new Metadata() });
    this.call.cancel();
  }

  private abandon(): void {
    if (this.final && !this.queue.length) return;
    this.queue.clear();
    this.status({ code: status.CANCELLED, details: 'Cancelled', metadata: new Metadata() });
    this.call.cancel();
  }
}

/** A handler's failed status as Connect's error: the same code and message, its rich details, its trailers. */
function connectErrorOf(s: StatusObject): ConnectError {
  const details = s.metadata.get(STATUS_DETAILS_KEY)[0];
  const trailers = new Headers();
  headersOfMetadata(s.metadata, trailers, STATUS_DETAILS_KEY);
  // gRPC's status codes are Connect's, number for number.
  const error = new ConnectError(s.details, s.code as number as Code, trailers);
  if (details instanceof Buffer) error.details.push(...decodeStatusDetails(details));
  return error;
}
