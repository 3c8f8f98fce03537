import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import type { WebRequest, WebResponse } from './cors';

/** The first bytes of every HTTP/2 connection without TLS ("prior knowledge", RFC 9113 3.4). */
const HTTP2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

/** TLS for the web address: what Node's `tls.createServer` takes (`key`, `cert`, `ca`, ...). */
export type WebTlsOptions = Omit<http2.SecureServerOptions, 'allowHTTP1'>;

/**
 * The web address's socket: HTTP/1.1 (browsers, curl) and HTTP/2 on one port. With TLS, ALPN
 * picks the version; without, a connection opening with HTTP/2's preface is HTTP/2 (Connect's
 * Node clients, `curl --http2-prior-knowledge`) and any other is HTTP/1.1.
 */
export class WebListener {
  private readonly server: net.Server;
  /** The HTTP/1.1 server of a plain (non-TLS) listener; with TLS the secure server speaks both. */
  private readonly http1?: http.Server;
  private readonly sessions = new Set<http2.Http2Session>();
  private readonly sockets = new Set<net.Socket>();

  constructor(handle: (request: WebRequest, response: WebResponse) => void, tls?: WebTlsOptions) {
    if (tls) {
      const secure = http2.createSecureServer({ ...tls, allowHTTP1: true }, handle);
      secure.on('session', (session) => this.track(session));
      this.server = secure;
    } else {
      const plain = http2.createServer(handle);
      plain.on('session', (session) => this.track(session));
      const http1 = (this.http1 = http.createServer(handle));
      // Without noDelay (net's default is off; http's is on), Nagle's algorithm holds small responses back for tens of ms.
      this.server = net.createServer({ noDelay: true }, (socket) => route(socket, plain, http1));
    }
    this.server.on('connection', (socket: net.Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  /** Starts listening on `host:port` (port 0 picks one); resolves with the port. */
  listen(url: string): Promise<number> {
    const colon = url.lastIndexOf(':');
    const host = url.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
    const port = Number(url.slice(colon + 1));
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as net.AddressInfo).port);
      });
    });
  }

  /** Stops accepting connections, lets requests in flight finish within `graceMs`, then closes what is left. */
  async close(graceMs: number): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const session of this.sessions) session.close();
    // HTTP/1.1 keep-alive connections close as soon as their request in flight is answered.
    this.http1?.closeIdleConnections();
    const idle = setInterval(() => this.http1?.closeIdleConnections(), 20);
    const timer = setTimeout(() => {
      for (const socket of this.sockets) socket.destroy();
    }, graceMs);
    await closed;
    clearInterval(idle);
    clearTimeout(timer);
  }

  private track(session: http2.Http2Session): void {
    this.sessions.add(session);
    session.once('close', () => this.sessions.delete(session));
  }
}

/** Hands a plain connection to the HTTP/2 or the HTTP/1.1 server by its first bytes. */
function route(socket: net.Socket, http2Server: http2.Http2Server, http1Server: http.Server): void {
  socket.once('readable', () => {
    const head = socket.read() as Buffer | null;
    if (!head) {
      socket.destroy();
      return;
    }
    socket.unshift(head);
    const sample = head.subarray(0, HTTP2_PREFACE.length);
    const server = HTTP2_PREFACE.subarray(0, sample.length).equals(sample) ? http2Server : http1Server;
    server.emit('connection', socket);
  });
}
