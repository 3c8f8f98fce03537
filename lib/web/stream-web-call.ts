import { Metadata, status, StatusObject } from '@grpc/grpc-js';
import type { Answer } from '../call/call-port';
import { BridgedServerCall, CallPeer, CallSink, statusOfError } from '../transport/bridged-server-call';
import { FRAMED_WRITE_BYTES } from '../transport/response-stream';
import type { WebRequest, WebResponse } from '../interfaces/grpc-web-options.interface';
import type { BodyEncoding } from './body-compression';
import { Envelope, EnvelopeReader } from './request-envelopes';
import {
  isConnect,
  isJson,
  messageOfEnvelope,
  mustCloseConnection,
  readWebCall,
  refusal,
  requestEncoding,
  webCallHeaders,
  WebProtocol,
} from './web-call-request';
import { plainHeadersOf } from './web-metadata';
import { dataFrames } from '../proto/message-frames';
import { connectEndStream, GRPC_WEB_CONTENT_TYPES, grpcWebTrailers } from './web-protocol';
import type { WebMethod } from './web-methods';

const CONTENT_TYPES: Readonly<Partial<Record<WebProtocol, string>>> = {
  'connect-stream-proto': 'application/connect+proto',
  'connect-stream-json': 'application/connect+json',
  ...GRPC_WEB_CONTENT_TYPES,
};

const NO_MESSAGE = Buffer.alloc(0);

/**
 * Answers a streaming call over Connect or gRPC-Web: a server stream (List) reads its one
 * request message first; a client or bidi stream hands the handler each request message as
 * its frame arrives, reading no further while the handler has not taken the last ones. Each
 * response message goes out as a frame (the frames a handler writes together in one write),
 * with the handler waiting while the HTTP response's buffer is full (the same backpressure as
 * gRPC), and the status at the end (Connect's end-stream message, gRPC-Web's trailers). A
 * client that goes away cancels the call.
 */
export function serveStreamWebCall(
  target: WebMethod,
  protocol: WebProtocol,
  request: WebRequest,
  response: WebResponse,
  maxRequestBytes: number,
  peer: CallPeer,
): void {
  const stream = new WebResponseStream(target, protocol, request, response);
  if (target.entry.type === 'serverStream') {
    readWebCall(target, protocol, request, maxRequestBytes).then(
      (call) => {
        if ('code' in call) stream.status(call);
        else stream.start(call.message, call.metadata, call.deadline, peer);
      },
      () => response.destroy(),
    );
    return;
  }
  const headers = webCallHeaders(protocol, request);
  if ('code' in headers) return stream.status(headers);
  const encoding = requestEncoding(protocol, request);
  if (typeof encoding !== 'string') return stream.status(encoding);
  const call = stream.start(NO_MESSAGE, headers.metadata, headers.deadline, peer);
  feedRequests(target, protocol, encoding, request, call, stream, maxRequestBytes);
}

/**
 * Hands a client or bidi stream's request messages to its call as their frames arrive; the
 * body is paused while the handler has not taken them. A malformed, oversized or cut-off frame
 * ends the call with its status; the client's half-close ends the request stream.
 */
function feedRequests(
  target: WebMethod,
  protocol: WebProtocol,
  encoding: BodyEncoding,
  request: WebRequest,
  call: BridgedServerCall,
  stream: WebResponseStream,
  maxRequestBytes: number,
): void {
  const envelopes = new EnvelopeReader(maxRequestBytes);
  let delivered = Promise.resolve();
  let failed = false;
  const fail = (outcome: StatusObject) => {
    if (failed) return;
    failed = true;
    request.off('data', onData);
    stream.refuse(outcome);
  };
  const onData = (chunk: Buffer) => {
    let found: Envelope[];
    try {
      found = envelopes.push(chunk);
    } catch (error) {
      return fail(refusal(status.RESOURCE_EXHAUSTED, (error as Error).message));
    }
    if (!found.length) return;
    request.pause();
    delivered = delivered.then(async () => {
      for (const envelope of found) {
        if (failed || call.cancelled) return;
        const message = await messageOfEnvelope(target, protocol, encoding, envelope, maxRequestBytes);
        if (!Buffer.isBuffer(message)) return fail(message);
        await new Promise<void>((ack) => call.pushRequest(message, ack));
      }
      request.resume();
    });
  };
  request.on('data', onData);
  request.once('end', () => {
    void delivered.then(() => {
      if (failed) return;
      if (envelopes.partial) fail(refusal(status.INVALID_ARGUMENT, 'The request body ended inside a message frame.'));
      else call.endRequests();
    });
  });
  // A body cut off by the client ends in the response's 'close', which cancels the call.
  request.on('error', () => undefined);
}

class WebResponseStream implements CallSink {
  private call?: BridgedServerCall;
  private waitingForDrain = false;
  private ended = false;
  /**
   * Messages not written yet, and their `delivered` callbacks. A List writes a batch of rows in
   * one go: their frames go out in one write (a microtask after the first, or at
   * `FRAMED_WRITE_BYTES`, as on the gRPC address), not one HTTP write each.
   */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private pendingDelivered: ((error?: Error) => void)[] = [];
  private flushQueued = false;

  constructor(
    private readonly target: WebMethod,
    private readonly protocol: WebProtocol,
    private readonly request: WebRequest,
    private readonly response: WebResponse,
  ) {}

  start(message: Buffer, metadata: Metadata, deadline: number, peer: CallPeer): BridgedServerCall {
    const call = (this.call = new BridgedServerCall(message, metadata, deadline, this.target.path, this, peer));
    this.response.once('close', () => this.ended || call.cancel());
    this.response.on('drain', () => {
      this.waitingForDrain = false;
      call.drained();
    });
    // The deadline is the handler's: its context's signal ends the stream with DEADLINE_EXCEEDED.
    const entry = this.target.entry;
    if (entry.type === 'serverStream' || entry.type === 'bidi') entry.handler(call);
    else if (entry.type === 'clientStream') entry.handler(call, this.answer);
    return call;
  }

  /** A client-streaming handler's answer: its one message, then its status. */
  private readonly answer: Answer = (error, value, trailers) => {
    if (error) return this.status(statusOfError(error));
    if (value) this.message(value);
    this.status({ code: status.OK, details: 'OK', metadata: trailers ?? new Metadata() });
  };

  /** Ends the call with a refusal of its request stream, and cancels the handler. */
  refuse(outcome: StatusObject): void {
    this.status(outcome);
    this.call?.cancel();
  }

  headers(metadata?: Metadata): void {
    if (this.response.headersSent) return;
    const out = metadata ? plainHeadersOf(metadata) : {};
    out['content-type'] = CONTENT_TYPES[this.protocol]!;
    if (mustCloseConnection(this.request)) out.connection = 'close';
    this.response.writeHead(200, out);
  }

  message(bytes: Buffer, delivered?: (error?: Error) => void): void {
    if (this.ended) return;
    let payload: Buffer | Error = bytes;
    if (isJson(this.protocol)) payload = this.target.json.toJson(this.target.output, bytes);
    if (payload instanceof Error) {
      this.status({ code: status.INTERNAL, details: payload.message, metadata: new Metadata() });
      this.call?.cancel();
      return;
    }
    this.headers();
    this.pending.push(payload);
    this.pendingBytes += payload.length + 5;
    if (delivered) this.pendingDelivered.push(delivered);
    if (this.pendingBytes >= FRAMED_WRITE_BYTES) this.flush();
    else if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(() => this.flush());
    }
  }

  hasRoom(): boolean {
    return !this.waitingForDrain;
  }

  status(outcome: StatusObject): void {
    if (this.ended) return;
    this.ended = true;
    this.headers();
    const last = isConnect(this.protocol) ? connectEndStream(outcome) : grpcWebTrailers(outcome);
    this.flush();
    this.write(last);
    this.response.end();
  }

  /** Writes the pending frames as one chunk; their callbacks run once it has gone out. */
  private flush(): void {
    this.flushQueued = false;
    if (!this.pending.length) return;
    const frames = dataFrames(this.pending, this.pendingBytes);
    const delivered = this.pendingDelivered;
    this.pending = [];
    this.pendingBytes = 0;
    this.pendingDelivered = [];
    const written = this.write(frames, delivered.length ? (error) => delivered.forEach((callback) => callback(error)) : undefined);
    if (!written) this.waitingForDrain = true;
  }

  private write(frame: Buffer, delivered?: (error?: Error) => void): boolean {
    if (this.response.destroyed) return true;
    const bytes = this.protocol === 'grpc-web-text' ? Buffer.from(frame.toString('base64'), 'latin1') : frame;
    // Node's HTTP/1.1 and HTTP/2 responses write alike; their union type does not say so.
    return (this.response as { write(chunk: Buffer, callback?: (error?: Error | null) => void): boolean }).write(
      bytes,
      delivered && ((error) => delivered(error ?? undefined)),
    );
  }
}
