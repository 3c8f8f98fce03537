import { Metadata, status, StatusObject } from '@grpc/grpc-js';
import { BridgedServerCall, CallPeer, CallSink } from '../transport/bridged-server-call';
import { FRAMED_WRITE_BYTES } from '../transport/response-stream';
import type { WebRequest, WebResponse } from '../interfaces/grpc-web-options.interface';
import { mustCloseConnection, readWebCall, WebProtocol } from './web-call-request';
import { plainHeadersOf } from './web-metadata';
import { dataFrames } from '../proto/message-frames';
import { connectEndStream, grpcWebTrailers } from './web-protocol';
import type { WebMethod } from './web-methods';

const CONTENT_TYPES: Readonly<Partial<Record<WebProtocol, string>>> = {
  'connect-stream-proto': 'application/connect+proto',
  'connect-stream-json': 'application/connect+json',
  'grpc-web': 'application/grpc-web+proto',
  'grpc-web-text': 'application/grpc-web-text+proto',
};

/**
 * Answers a server-streaming call (List) over Connect or gRPC-Web: each message as a frame (the
 * frames a handler writes together go out in one write), with the handler waiting while the
 * HTTP response's buffer is full (the same backpressure as gRPC), and the status at the end
 * (Connect's end-stream message, gRPC-Web's trailers). A client that goes away cancels the call.
 */
export function serveStreamWebCall(
  target: WebMethod,
  protocol: WebProtocol,
  request: WebRequest,
  response: WebResponse,
  maxRequestBytes: number,
  peer: CallPeer,
): void {
  readWebCall(target, protocol, request, maxRequestBytes).then(
    (call) => {
      const stream = new WebResponseStream(target, protocol, request, response);
      if ('code' in call) stream.status(call);
      else stream.start(call.message, call.metadata, call.deadline, peer);
    },
    () => response.destroy(),
  );
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

  start(message: Buffer, metadata: Metadata, deadline: number, peer: CallPeer): void {
    if (this.target.entry.type !== 'serverStream') return;
    const call = (this.call = new BridgedServerCall(message, metadata, deadline, this.target.path, this, peer));
    this.response.once('close', () => this.ended || call.cancel());
    this.response.on('drain', () => {
      this.waitingForDrain = false;
      call.drained();
    });
    // The deadline is the handler's: its context's signal ends the stream with DEADLINE_EXCEEDED.
    this.target.entry.handler(call);
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
    if (this.protocol === 'connect-stream-json') payload = this.target.json.toJson(this.target.method.output, bytes);
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
    const last =
      this.protocol === 'connect-stream-proto' || this.protocol === 'connect-stream-json'
        ? connectEndStream(outcome)
        : grpcWebTrailers(outcome);
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
