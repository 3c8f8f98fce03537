import type { Deadline, Metadata, ServiceError } from '@grpc/grpc-js';
import type { PeerCertificate } from 'node:tls';

// The call as the framework's handlers use it, whichever transport carries it. grpc-js's server
// calls have these members as they are (no wrapper per call); the web protocols and the
// in-process test channel implement them (`BridgedServerCall`).

/** What the transport knows of the peer's TLS (grpc-js's `AuthContext`). */
export interface PeerAuth {
  transportSecurityType?: string;
  /** The client's certificate, on a mutual TLS connection. */
  sslPeerCertificate?: PeerCertificate;
}

/**
 * What every served call offers: its metadata, peer and deadline, its response headers, and a
 * `'cancelled'` event when the client goes away.
 *
 * @publicApi
 */
export interface CallPort {
  readonly metadata: Metadata;
  readonly cancelled: boolean;
  getPeer(): string;
  getDeadline(): Deadline;
  /** The method path, e.g. `/blog_proto.PostController/List`. */
  getPath(): string;
  getAuthContext(): PeerAuth;
  sendMetadata(metadata: Metadata): void;
  once(event: 'cancelled', listener: () => void): unknown;
}

/** A call with one request message (unary, server streaming). */
export interface RequestMessagePort extends CallPort {
  readonly request: Buffer;
}

/** A call whose request messages arrive as a stream (client streaming, bidi). */
export interface RequestStreamPort extends CallPort {
  /** The request messages; with `destroyOnReturn: false`, ending the iteration leaves the call open. */
  iterator(options: { destroyOnReturn: boolean }): AsyncIterator<Buffer>;
}

/** A call that streams responses (server streaming, bidi). */
export interface ResponseStreamPort extends CallPort {
  readonly writableEnded: boolean;
  /** Sends one encoded message; false once the client is behind, until `'drain'`. `delivered` runs once it has gone out. */
  write(bytes: Buffer, delivered?: (error?: Error | null) => void): boolean;
  /** Ends the stream with OK and these trailers. */
  end(trailers?: Metadata): void;
  /** Ends the stream with the error's status (grpc-js's way: the call emits it). */
  emit(event: 'error', error: ServiceError): boolean;
  on(event: 'drain', listener: () => void): unknown;
}

/** How a call with one response is answered: its error, or its encoded response and trailers. */
export type Answer = (error: ServiceError | null, response?: Buffer | null, trailers?: Metadata) => void;

/** The handler of each kind of rpc, as every transport calls it. */
export type RpcHandler =
  | { type: 'unary'; handler: (call: RequestMessagePort, answer: Answer) => void }
  | { type: 'serverStream'; handler: (call: RequestMessagePort & ResponseStreamPort) => void }
  | { type: 'clientStream'; handler: (call: RequestStreamPort, answer: Answer) => void }
  | { type: 'bidi'; handler: (call: RequestStreamPort & ResponseStreamPort) => void };
