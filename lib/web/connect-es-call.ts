import { Code, ConnectError } from '@connectrpc/connect';
import type { HandlerContext } from '@connectrpc/connect';
import { Metadata, ServiceError, status, StatusObject } from '@grpc/grpc-js';
import { decodeStatusDetails, STATUS_DETAILS_KEY } from '../errors/status-details';
import { BridgedServerCall, CallPeer, CallSink, statusOfError } from '../transport/bridged-server-call';
import { headersOfMetadata, metadataOfHeaders } from './web-metadata';

/** Response messages a stream may have waiting for the HTTP response before the handler waits for 'drain'. */
const STREAM_HIGH_WATER_MARK = 16;

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
  private readonly queue: PendingMessage[] = [];
  private final?: StatusObject;
  private wake?: () => void;
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
    // Connect aborts the signal when a call ends however it ended: only an unfinished call is cancelled.
    context.signal.addEventListener('abort', () => this.abandon(), { once: true });
  }

  headers(metadata?: Metadata): void {
    if (this.headersSent) return;
    this.headersSent = true;
    if (metadata) headersOfMetadata(metadata, this.context.responseHeader);
  }

  message(bytes: Buffer, delivered?: (error?: Error) => void): void {
    if (this.final) return;
    this.queue.push({ bytes, delivered });
    this.wakeUp();
  }

  status(s: StatusObject): void {
    if (this.final) return;
    this.final = s;
    this.wakeUp();
  }

  hasRoom(): boolean {
    return this.queue.length < STREAM_HIGH_WATER_MARK;
  }

  /** The answer of a unary or client-streaming handler, as grpc-js's `sendUnaryData` callback. */
  answer = (error: Partial<ServiceError> | null, value?: Buffer | null, trailers?: Metadata): void => {
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
    for (;;) {
      const next = this.queue.shift();
      if (next) {
        next.delivered?.();
        if (this.queue.length < STREAM_HIGH_WATER_MARK) this.call.drained();
        yield next.bytes;
        continue;
      }
      if (this.final) {
        if (this.final.code !== status.OK) throw connectErrorOf(this.final);
        headersOfMetadata(this.final.metadata, this.context.responseTrailer);
        return;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** Ends the call with the request stream's failure and cancels the handler. */
  fail(error: ConnectError): void {
    this.status({ code: error.code as number, details: error.rawMessage, metadata: new Metadata() });
    this.call.cancel();
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private abandon(): void {
    if (this.final && !this.queue.length) return;
    this.final ??= { code: status.CANCELLED, details: 'Cancelled', metadata: new Metadata() };
    this.queue.length = 0;
    this.call.cancel();
    this.wakeUp();
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
