import * as grpc from '@grpc/grpc-js';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import { GrpcFrameworkServer } from 'nestjs-grpc-framework';
import { GrpcClient, RunningSample, startSample, unary } from '../utils/sample-app';

/** Resolves with what `start` reports; rejects saying what did not happen after `ms` (far beyond the limit under test). */
function within<T>(ms: number, what: string, start: (resolve: (value: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
    start((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}

/** A plain TCP connection to `port` that records what the server sends and when it closes. */
function connect(port: number): Promise<{ socket: net.Socket; received: () => string; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
    let text = '';
    socket.on('data', (chunk) => (text += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    socket.once('connect', () => resolve({ socket, received: () => text, closed }));
    socket.once('error', reject);
  });
}

/** Writes `text` one byte per `everyMs` until the socket closes or the text is sent. */
function trickle(socket: net.Socket, text: string, everyMs: number): void {
  let at = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || at >= text.length) clearInterval(timer);
    else socket.write(text[at++]);
  }, everyMs);
  socket.once('close', () => clearInterval(timer));
}

const LIMITS = { headersTimeoutMs: 600, requestTimeoutMs: 1200, idleTimeoutMs: 900, maxConnections: 6 };

describe('connection limits: slow or silent clients are let go', () => {
  let sample: RunningSample;
  let webPort: number;

  beforeAll(async () => {
    sample = await startSample({ grpc: { web: { url: '127.0.0.1:0', ...LIMITS }, idleConnectionTimeoutMs: 500 } });
    webPort = Number(sample.app.get(GrpcFrameworkServer).webAddress!.split(':').pop());
  });
  afterAll(() => sample.close());

  it('closes a web connection that never sends a byte (headersTimeoutMs)', async () => {
    const { closed } = await connect(webPort);
    await within(8000, 'the silent connection was not closed', (done) => void closed.then(done));
  });

  it('closes an HTTP/1.1 request whose headers arrive one byte at a time', async () => {
    const { socket, closed } = await connect(webPort);
    trickle(socket, `GET /blog_proto.PostController/List HTTP/1.1\r\nhost: x\r\n${'x-pad: y\r\n'.repeat(40)}\r\n`, 50);
    await within(8000, 'the slow headers were still being read', (done) => void closed.then(done));
  });

  it('answers 408 to an HTTP/1.1 request whose body arrives one byte at a time (requestTimeoutMs)', async () => {
    const { socket, received, closed } = await connect(webPort);
    socket.write(
      'POST /blog_proto.PostController/Create HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 400\r\n\r\n',
    );
    trickle(socket, `{"title":"${'t'.repeat(380)}"}`, 50);
    await within(8000, 'the slow body was still being read', (done) => void closed.then(done));
    expect(received()).toMatch(/^HTTP\/1\.1 408/);
  });

  it('closes an HTTP/2 session with no request in it (idleTimeoutMs)', async () => {
    const session = http2.connect(`http://127.0.0.1:${webPort}`);
    session.on('error', () => undefined);
    await within(8000, 'the idle HTTP/2 session was not closed', (done) => session.once('close', () => done(undefined)));
  });

  it('serves an HTTP/1.1 request whose first segment is the single byte "P"', async () => {
    const { socket, received, closed } = await connect(webPort);
    const body = '{"title":"Split","content":"first byte alone"}';
    socket.write('P');
    // A later macrotask, so that "P" goes out as a segment of its own (the server must wait for more before it decides).
    await new Promise((resolve) => setTimeout(resolve, 50));
    socket.write(
      `OST /blog_proto.PostController/Create HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
    );
    await within(8000, 'no answer to the split request', (done) => void closed.then(done));
    expect(received()).toMatch(/^HTTP\/1\.1 200/);
    expect(received()).toContain('"title":"Split"');
  });

  it('closes connections past maxConnections as they are accepted, keeping the ones it has', async () => {
    const open = await Promise.all(Array.from({ length: LIMITS.maxConnections }, () => connect(webPort)));
    const extra = await connect(webPort);
    await within(8000, 'the connection past maxConnections was not closed', (done) => void extra.closed.then(done));
    expect(extra.received()).toBe('');
    expect(open.filter((c) => c.socket.destroyed)).toHaveLength(0);
    for (const c of open) c.socket.destroy();
    await Promise.all(open.map((c) => c.closed));
  });

  it('lets go of a gRPC connection with no call in flight (idleConnectionTimeoutMs)', async () => {
    const posts = sample.client<GrpcClient>('blog_proto.PostController');
    await unary(posts, 'Create', { title: 'Before idle', content: 'x' });
    const channel = posts.getChannel();
    expect(channel.getConnectivityState(false)).toBe(grpc.connectivityState.READY);
    const state = await within<grpc.connectivityState>(8000, 'the idle gRPC connection was not closed', (done) =>
      channel.watchConnectivityState(grpc.connectivityState.READY, Infinity, () => done(channel.getConnectivityState(false))),
    );
    expect(state).not.toBe(grpc.connectivityState.READY);
    // The client reconnects on its next call.
    await expect(unary(posts, 'Create', { title: 'After idle', content: 'y' })).resolves.toMatchObject({ title: 'After idle' });
  });
});

/** On a server of its own: the connections of the tests above must not count against it. */
describe('HTTP/2 request bodies on the web address', () => {
  let sample: RunningSample;
  let webPort: number;

  beforeAll(async () => {
    sample = await startSample({ grpc: { web: { url: '127.0.0.1:0', ...LIMITS } } });
    webPort = Number(sample.app.get(GrpcFrameworkServer).webAddress!.split(':').pop());
  });
  afterAll(() => sample.close());

  it('answers 408 to an HTTP/2 request whose body arrives one byte at a time (requestTimeoutMs), on a session that stays', async () => {
    const session = http2.connect(`http://127.0.0.1:${webPort}`);
    session.on('error', () => undefined);
    try {
      const stream = session.request({
        ':method': 'POST',
        ':path': '/blog_proto.PostController/Create',
        'content-type': 'application/json',
      });
      stream.on('error', () => undefined);
      const body = `{"title":"${'t'.repeat(380)}"}`;
      let at = 0;
      const trickling = setInterval(() => (stream.writable && at < body.length ? stream.write(body[at++]) : clearInterval(trickling)), 50);
      try {
        const status = await within(8000, 'the slow HTTP/2 body was still being read', (done) =>
          stream.once('response', (headers) => done(headers[':status'])),
        );
        expect(status).toBe(408);
      } finally {
        clearInterval(trickling);
      }
      // The session serves its next request.
      const next = session.request({ ':method': 'POST', ':path': '/blog_proto.PostController/Create', 'content-type': 'application/json' });
      next.end(JSON.stringify({ title: 'After a slow one', content: 'c' }));
      await expect(
        within(8000, 'no answer on the same session', (done) => next.once('response', (headers) => done(headers[':status']))),
      ).resolves.toBe(200);
    } finally {
      // Closed before the next test counts connections.
      session.destroy();
    }
  });
});

/** The gRPC address, on a server of its own so that only this block's connections count. */
describe('connection limits on the gRPC address', () => {
  const GRPC_LIMITS = { connectTimeoutMs: 600, maxConnections: 3 };
  let sample: RunningSample;
  let grpcPort: number;

  beforeAll(async () => {
    sample = await startSample({ grpc: GRPC_LIMITS });
    grpcPort = Number(sample.address.split(':').pop());
  });
  afterAll(() => sample.close());

  it('closes a connection that never opens HTTP/2 (connectTimeoutMs)', async () => {
    const { closed } = await connect(grpcPort);
    await within(8000, 'the silent gRPC connection was not closed', (done) => void closed.then(done));
  });

  it('keeps a connection that has opened HTTP/2, with no call in it, past connectTimeoutMs', async () => {
    const session = http2.connect(`http://127.0.0.1:${grpcPort}`);
    session.on('error', () => undefined);
    try {
      await within(8000, 'the server sent no settings', (done) => session.once('remoteSettings', () => done(undefined)));
      // The server's settings came after ours were sent; a ping answered later than
      // connectTimeoutMs shows the session outlived the limit.
      await new Promise((resolve) => setTimeout(resolve, GRPC_LIMITS.connectTimeoutMs * 2));
      await expect(within(8000, 'the ping was not answered', (done) => session.ping((error) => done(error)))).resolves.toBeNull();
    } finally {
      session.destroy();
    }
  });

  it('closes connections past maxConnections as they are accepted, keeping the ones it has', async () => {
    const sessions = Array.from({ length: GRPC_LIMITS.maxConnections }, () => http2.connect(`http://127.0.0.1:${grpcPort}`));
    try {
      for (const session of sessions) session.on('error', () => undefined);
      await Promise.all(
        sessions.map((session) =>
          within(8000, 'a session got no settings', (done) => session.once('remoteSettings', () => done(undefined))),
        ),
      );
      const extra = await connect(grpcPort);
      await within(8000, 'the connection past maxConnections was not closed', (done) => void extra.closed.then(done));
      expect(extra.received()).toBe('');
      const pings = sessions.map((session) =>
        within(8000, 'a kept session did not answer a ping', (done) => session.ping((error) => done(error))),
      );
      await expect(Promise.all(pings)).resolves.toEqual(sessions.map(() => null));
    } finally {
      for (const session of sessions) session.destroy();
    }
  });
});
