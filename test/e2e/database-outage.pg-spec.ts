import { status } from '@grpc/grpc-js';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import * as net from 'node:net';
import { unary, collect, startSample, RunningSample, GrpcClient } from '../utils/sample-app';
import { dropPostgresDatabase, POSTGRES_URL } from '../utils/test-database';

/** A TCP proxy to PostgreSQL that the test can cut and restore, as if the database went away. */
class Outage {
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async up(): Promise<void> {
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.target.port, this.target.host);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server!.address() as net.AddressInfo).port;
  }

  async down(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
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

  beforeAll(async () => {
    await outage.up();
    sample = await startSample({
      database: {
        driver: PostgreSqlDriver,
        clientUrl: `postgresql://${url.username || 'postgres'}@127.0.0.1:${outage.port}/${dbName}`,
        pool: { min: 0, max: 4, acquireTimeoutMillis: 3000 },
      },
    });
    posts = sample.client('blog_proto.PostController');
  });
  afterAll(async () => {
    await outage.up().catch(() => undefined);
    await sample.close();
    await outage.down();
    await dropPostgresDatabase(dbName);
  });

  it('answers UNAVAILABLE while the database is unreachable, stays up, and serves again once it is back', async () => {
    const first = await unary(posts, 'Create', { title: 'before', content: 'outage' });

    await outage.down();
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

    await outage.up();
    await expect(unary(posts, 'Retrieve', { id: first.id })).resolves.toEqual(first);
    await unary(posts, 'Create', { title: 'after', content: 'outage' });
    expect((await collect(posts, 'List', {})).map((p) => p.title)).toEqual(['before', 'after']);
  });
});
