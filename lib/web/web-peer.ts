import type { TLSSocket } from 'node:tls';
import type { PeerAuth } from '../call/call-port';
import type { CallPeer } from '../transport/bridged-server-call';
import type { WebRequest } from '../interfaces/grpc-web-options.interface';

const peers = new WeakMap<object, CallPeer>();

/**
 * Who a web request comes from: its address and, over TLS, what grpc-js's `getAuthContext()`
 * tells of a native call (the client certificate of a mutual TLS connection, which
 * `MtlsAuthenticator` reads). Worked out once per connection.
 */
export function webPeerOf(request: WebRequest): CallPeer {
  const socket = request.socket;
  let peer = peers.get(socket);
  if (!peer)
    peers.set(
      socket,
      (peer = { peer: `${socket.remoteAddress}:${socket.remotePort}`, protocol: 'web', ...tlsOf(socket as Partial<TLSSocket>) }),
    );
  return peer;
}

function tlsOf(socket: Partial<TLSSocket>): { auth?: PeerAuth } {
  if (typeof socket.getPeerCertificate !== 'function' || !socket.encrypted) return {};
  const certificate = socket.authorized ? socket.getPeerCertificate() : undefined;
  return { auth: { transportSecurityType: 'ssl', ...(certificate?.fingerprint256 ? { sslPeerCertificate: certificate } : {}) } };
}
