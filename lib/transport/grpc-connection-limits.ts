import type { Http2SecureServer, Http2Server, Http2Session } from 'node:http2';

/** Bounds on the connections of the gRPC address. */
export interface GrpcConnectionLimits {
  /** Connections open at once; more are closed as they are accepted. */
  maxConnections: number;
  /** A new connection must send HTTP/2's preface and settings within this (after any TLS handshake). */
  connectTimeoutMs: number;
}

/**
 * grpc-js turns Node's socket timeout off and bounds only sessions that have spoken HTTP/2
 * (`grpc.max_connection_idle_ms`): a connection that never sends the preface stays open for
 * ever, and nothing caps how many there are, so silent clients can use up the process's file
 * descriptors. This closes a connection whose settings do not arrive in time, and caps them.
 */
export function limitGrpcConnections(server: Http2Server | Http2SecureServer, limits: GrpcConnectionLimits): void {
  server.maxConnections = limits.maxConnections;
  server.on('session', (session: Http2Session) => {
    const timer = setTimeout(() => session.destroy(), limits.connectTimeoutMs);
    timer.unref();
    session.once('remoteSettings', () => clearTimeout(timer));
    session.once('close', () => clearTimeout(timer));
  });
}
