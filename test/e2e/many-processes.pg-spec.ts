import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { MikroORM } from '@mikro-orm/core';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { randomBytes, randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { GrpcRequestRecord } from 'nestjs-grpc-framework';
import { Note } from '../fixtures/idempotency/note.entity';
import { NOTES_PROTO } from '../fixtures/idempotency/notes.app';
import { runserver } from '../utils/runserver';
import { unary } from '../utils/sample-app';
import { dropPostgresDatabase, POSTGRES_URL } from '../utils/test-database';

// Two server processes compile the fixture's TypeScript: allow for a busy machine.
jest.setTimeout(90000);

const NOTES_MODULE = `${path.join(__dirname, '..', 'fixtures', 'idempotency', 'notes.module.ts')}:NotesModule`;
type Client = grpc.Client & Record<string, Function>;

/** Two separate servers (`grpc-framework runserver`, built first) on one PostgreSQL database, as two machines would run them. */
describe('two server processes on one database', () => {
  const dbName = `grpc_fw_processes_${process.pid}`;
  const url = `${POSTGRES_URL}/${dbName}`;
  const env = { NOTES_DATABASE_URL: url, NOTES_PAGE_TOKEN_SECRET: randomBytes(32).toString('hex') };
  let servers: Awaited<ReturnType<typeof runserver>>[];
  let NoteController: typeof grpc.Client;
  let spread: Client;

  beforeAll(async () => {
    const orm = await MikroORM.init({
      driver: PostgreSqlDriver,
      clientUrl: url,
      entities: [Note, GrpcRequestRecord],
      allowGlobalContext: true,
    });
    await orm.getSchemaGenerator().refreshDatabase();
    await orm.close();
    servers = await Promise.all([0, 1].map(() => runserver(['127.0.0.1:0', '--module', NOTES_MODULE], undefined, env)));
    const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(NOTES_PROTO, { keepCase: true, defaults: true }));
    NoteController = (pkg.idempotency as grpc.GrpcObject).NoteController as typeof grpc.Client;
    // Client-side round robin over both addresses, as over a headless Service's pods.
    spread = new NoteController(`ipv4:${servers.map((server) => server.address).join(',')}`, grpc.credentials.createInsecure(), {
      'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
    }) as Client;
  });
  afterAll(async () => {
    spread?.close();
    for (const server of servers ?? []) server.child.kill('SIGTERM');
    await Promise.all((servers ?? []).map((server) => server.exited));
    await dropPostgresDatabase(dbName);
  });

  /** Calls a unary rpc; resolves with its response and the pid of the process that served it (`x-served-by`). */
  const served = <T>(method: string, request: object) =>
    new Promise<{ response: T; by: string }>((resolve, reject) => {
      let by = '';
      const call = spread[method]!(request, (error: grpc.ServiceError | null, response: T) =>
        error ? reject(error) : resolve({ response, by }),
      ) as grpc.ClientUnaryCall;
      call.on('metadata', (metadata: grpc.Metadata) => (by = String(metadata.get('x-served-by')[0])));
    });

  it('spreads calls over both, and a client pages on across them with one page token secret', async () => {
    const pids = new Set<string>();
    for (let i = 0; i < 6; i++) pids.add((await served('Create', { title: `spread ${i}` })).by);
    const titles: string[] = [];
    const pagedBy: string[] = [];
    let token = '';
    do {
      const { response, by } = await served<{ results: { title: string }[]; next_page_token: string }>('ListPage', {
        page_size: 2,
        page_token: token,
      });
      titles.push(...response.results.map((note) => note.title));
      pagedBy.push(by);
      token = response.next_page_token;
    } while (token);
    expect(titles).toEqual(['spread 0', 'spread 1', 'spread 2', 'spread 3', 'spread 4', 'spread 5']);
    // Both processes served, and the pages came from both: a token one signed, the other read.
    expect(pids).toEqual(new Set(servers.map((server) => String(server.child.pid))));
    expect(new Set(pagedBy).size).toBe(2);
  });

  it('writes once when the same request_id reaches both processes at once', async () => {
    const clients = servers.map((server) => new NoteController(server.address, grpc.credentials.createInsecure()) as Client);
    try {
      const request = { title: 'sent to both', request_id: randomUUID() };
      const answers = await Promise.all([...clients, ...clients].map((client) => unary(client as never, 'Create', request)));
      for (const answer of answers) expect(answer).toEqual(answers[0]);
      const orm = await MikroORM.init({
        driver: PostgreSqlDriver,
        clientUrl: url,
        entities: [Note, GrpcRequestRecord],
        allowGlobalContext: true,
      });
      try {
        expect(await orm.em.count(Note, { title: 'sent to both' })).toBe(1);
      } finally {
        await orm.close();
      }
    } finally {
      for (const client of clients) client.close();
    }
  });
});
