import { status } from '@grpc/grpc-js';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import * as net from 'node:net';
import { serverErrorsDuring } from '../utils/captured-logs';
import { unary, collect, startSample, RunningSample, GrpcClient } from '../utils/sample-app';
import { dropPostgresDatabase, POSTGRES_URL } from '../utils/test-database';

/**
 * A TCP proxy to PostgreSQL that the test can cut and restore, as if the database went away.
 * It keeps its port while cut (refusing connections by closing them at once), so nothing else
 * can take the port in between.
 */
class Outage {
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private cut = false;
  private stalled = false;
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async start(): Promise<void> {
    this.server = net.createServer((client) => {
      if (this.cut) {
        client.destroy();
        return;
      }
      const upstream = net.connect(this.target.port, this.target.host);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      if (this.stalled) for (const socket of [client, upstream]) socket.pause();
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server!.address() as net.AddressInfo).port;
  }

  down(): void {
    this.cut = true;
    for (const socket of this.sockets) socket.destroy();
  }

  up(): void {
    this.cut = false;
  }

  /** Connections stay open but no byte goes through: the database stops answering. */
  stall(): void {
    this.stalled = true;
    for (const socket of this.sockets) socket.pause();
  }

  flow(): void {
    this.stalled = false;
    for (const socket of this.sockets) socket.resume();
  }

  async stop(): Promise<void> {
    this.down();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

// PostgreSQL only: SQLite is a file in the server's own process and cannot become unreachable.
describe('PostgreSQL outage', () => {
  const url = new URL(POSTGRES_URL);
  const outage = new Outage({ host: url.hostname, port: Number(url.port || 5432) });
  const dbName = `grpc_fw_outage_${process.pid}`;
  let sample: RunningSample;
  let posts: GrpcClient;
  // knex reports the connections the outage cut with console.log; they are expected here.
  const driverLog: string[] = [];
  let consoleLog: jest.SpyInstance;

  beforeAll(async () => {
    consoleLog = jest.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => driverLog.push(parts.map(String).join(' ')));
    await outage.start();
    sample = await startSample({
      database: {
        driver: PostgreSqlDriver,
        clientUrl: `postgresql://${url.username || 'postgres'}@127.0.0.1:${outage.port}/${dbName}`,
        pool: { min: 0, max: 4, acquireTimeoutMillis: 3000 },
      },
      grpc: { callTimeoutMs: 1000 },
    });
    posts = sample.client('blog_proto.PostController');
  });
  afterAll(async () => {
    outage.up();
    await sample?.close();
    await outage.stop();
    await dropPostgresDatabase(dbName);
    consoleLog.mockRestore();
    expect(driverLog.filter((line) => !/^Connection Error: Connection (ended unexpectedly|terminated)/.test(line))).toEqual([]);
  });

  it('answers UNAVAILABLE while the database is unreachable, stays up, and serves again once it is back', async () => {
    const first = await unary(posts, 'Create', { title: 'before', content: 'outage' });

    outage.down();
    const logged = await serverErrorsDuring(async () => {
      for (let i = 0; i < 15; i++) {
        for (const call of [
          () => unary(posts, 'Create', { title: 'during', content: 'outage' }),
          () => unary(posts, 'Retrieve', { id: first.id }),
          () => collect(posts, 'List', {}),
        ]) {
          await expect(call()).rejects.toMatchObject({
            code: status.UNAVAILABLE,
            details: 'The database is unavailable; try again later.',
          });
        }
      }
    });
    // 45 failed calls, one log line: the outage, not a stack per call.
    expect(logged).toEqual([expect.stringMatching(/^The database is unavailable \(.+\): calls get UNAVAILABLE until it is back/)]);

    outage.up();
    await expect(unary(posts, 'Retrieve', { id: first.id })).resolves.toEqual(first);
    await unary(posts, 'Create', { title: 'after', content: 'outage' });
    expect((await collect(posts, 'List', {})).map((p) => p.title)).toEqual(['before', 'after']);
  });

  it('answers within the deadline when the database stops answering, and serves again once it answers', async () => {
    const first = await unary(posts, 'Create', { title: 'before', content: 'stall' });
    outage.stall();
    try {
      let started = Date.now();
      await expect(unary(posts, 'Retrieve', { id: first.id }, undefined, { deadline: Date.now() + 500 })).rejects.toMatchObject({
        code: status.DEADLINE_EXCEEDED,
      });
      expect(Date.now() - started).toBeLessThan(1500);
      // Without a deadline from the client, the server's callTimeoutMs (1 s here) bounds the call.
      started = Date.now();
      await expect(unary(posts, 'Create', { title: 'during', content: 'stall' })).rejects.toMatchObject({ code: status.DEADLINE_EXCEEDED });
      expect(Date.now() - started).toBeLessThan(2500);
    } finally {
      outage.flow();
    }
    await expect(unary(posts, 'Retrieve', { id: first.id })).resolves.toMatchObject({ title: 'before' });
  });
});
