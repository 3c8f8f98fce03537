import type { IncomingMessage, ServerResponse } from 'node:http';
import type * as http2 from 'node:http2';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';

/** Which browser pages may call the web address (CORS). */
export interface WebCorsOptions {
  /** Origins allowed to call from a browser, exactly as browsers send them (`https://app.example.com`), or `'*'` for any. @default [] (none) */
  origins?: readonly string[] | '*';
  /** Request headers pages may send besides those gRPC-Web and Connect need and `authorization`. @default [] */
  allowedHeaders?: readonly string[];
  /** Response headers and trailers pages may read besides those gRPC-Web and Connect need. @default [] */
  exposedHeaders?: readonly string[];
  /** Allow requests with credentials (cookies, TLS client certificates). @default false */
  credentials?: boolean;
  /** How long a browser may reuse a preflight's answer, in seconds. @default 7200 */
  maxAgeSeconds?: number;
}

export type WebRequest = IncomingMessage | Http2ServerRequest;
export type WebResponse = ServerResponse | Http2ServerResponse;

/** TLS for the web address: what Node's `tls.createServer` takes (`key`, `cert`, `ca`, ...). */
export type WebTlsOptions = Omit<http2.SecureServerOptions, 'allowHTTP1'>;

/** How long the web address waits for a client, and how many it serves at once. */
export interface WebConnectionLimits {
  /** A request's headers (and a new connection's first bytes, or its TLS handshake) must arrive within this. */
  headersTimeoutMs: number;
  /** A whole HTTP/1.1 request, headers and body, must arrive within this (HTTP/2 bodies: see `limitHttp2Body`). */
  requestTimeoutMs: number;
  /** A connection or HTTP/2 session over which nothing is sent or received for this long is closed. */
  idleTimeoutMs: number;
  /** Connections open at once; more are closed as they are accepted. */
  maxConnections: number;
}
