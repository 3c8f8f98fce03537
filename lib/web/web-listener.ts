import * as http from 'node:http';
import { hostAndPort } from '../common/address';
import * as http2 from 'node:http2';
import type * as net from 'node:net';
import type { WebConnectionLimits, WebRequest, WebResponse, WebTlsOptions } from '../interfaces/grpc-web-options.interface';

/** The first bytes of every HTTP/2 connection without TLS ("prior knowledge", RFC 9113 3.4). */
const HTTP2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

/**
 * The web address's socket: HTTP/1.1 (browsers, curl) and HTTP/2 on one port. With TLS, ALPN
 * picks the version; without, a connection opening with HTTP/2's preface is HTTP/2 (Connect's
 * Node clients, `curl --http2-prior-knowledge`) and any other is HTTP/1.1.
 *
 * The listening server is Node's own HTTP/1.1 (or, with TLS, HTTP/2-with-HTTP/1.1) server, so
 * Node enforces its header and request timeouts (HTTP/1.1), which it does only for a server that listens.
 */
export class WebListener {
  private readonly server: http.Server | http2.Http2SecureServer;
  /** The HTTP/1.1 server of a plain (non-TLS) listener; with TLS the secure server speaks both. */
  private readonly http1?: http.Server;
  private readonly sessions = new Set<http2.Http2Session>();
  private readonly sockets = new Set<net.Socket>();
  /** The TLS server, whose certificate a rotation replaces (`setSecureContext`). */
  readonly secure?: http2.Http2SecureServer;

  constructor(handle: (request: WebRequest, response: WebResponse) => void, limits: WebConnectionLimits & { tls?: WebTlsOptions }) {
    const tls = limits.tls;
    const nodeTimeouts = {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      // How often Node looks for requests past those timeouts (its default, 30 s, would let them run that much longer).
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
    };
    if (tls) {
      const secure = http2.createSecureServer({ ...tls, allowHTTP1: true, handshakeTimeout: limits.headersTimeoutMs }, handle);
      // The settings of its HTTP/1.1 fallback, which Node's typings leave off the secure server.
      Object.assign(secure, nodeTimeouts);
      secure.on('session', (session) => this.track(session));
      this.server = this.secure = secure;
    } else {
      const plain = http2.createServer(handle);
      plain.on('session', (session) => this.track(session));
      plain.setTimeout(limits.idleTimeoutMs);
      const http1 = (this.http1 = http.createServer({ ...nodeTimeouts, noDelay: true }, handle));
      // The HTTP/1.1 server's own connection listener parses HTTP/1.1; a connection opening with the HTTP/2 preface goes to the HTTP/2 server instead.
      const parseHttp1 = http1.listeners('connection') as Array<(socket: net.Socket) => void>;
      http1.removeAllListeners('connection');
      http1.on('connection', (socket: net.Socket) =>
        route(socket, limits.headersTimeoutMs, (isHttp2) => {
          if (isHttp2) plain.emit('connection', socket);
          else for (const listener of parseHttp1) listener.call(http1, socket);
        }),
      );
      this.server = http1;
    }
    this.server.setTimeout(limits.idleTimeoutMs);
    this.server.maxConnections = limits.maxConnections;
    this.server.on('connection', (socket: net.Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  /** Starts listening on `host:port` (port 0 picks one); resolves with the port. */
  listen(url: string): Promise<number> {
    const { host, port } = hostAndPort(url);
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

/**
 * Decides from a plain connection's first bytes whether it speaks HTTP/2: it reads until they
 * either differ from HTTP/2's preface or hold all of it (one segment may carry a single byte),
 * puts them back, and hands the socket on. A connection that sends too little within
 * `timeoutMs` is closed.
 */
function route(socket: net.Socket, timeoutMs: number, handOff: (isHttp2: boolean) => void): void {
  let head: Buffer = Buffer.alloc(0);
  const timer = setTimeout(() => socket.destroy(), timeoutMs);
  const done = (isHttp2: boolean) => {
    clearTimeout(timer);
    socket.off('readable', onReadable);
    socket.off('close', onClose);
    socket.unshift(head);
    handOff(isHttp2);
  };
  const onClose = () => clearTimeout(timer);
  const onReadable = () => {
    let chunk: Buffer | null;
    while ((chunk = socket.read() as Buffer | null) !== null) head = head.length ? Buffer.concat([head, chunk]) : chunk;
    const sample = head.subarray(0, HTTP2_PREFACE.length);
    if (!HTTP2_PREFACE.subarray(0, sample.length).equals(sample)) done(false);
    else if (sample.length === HTTP2_PREFACE.length) done(true);
  };
  socket.on('readable', onReadable);
  socket.once('close', onClose);
}
