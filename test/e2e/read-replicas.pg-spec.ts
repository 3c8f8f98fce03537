import * as grpc from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { MikroORM } from '@mikro-orm/core';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { randomUUID } from 'node:crypto';
import { Note } from '../fixtures/idempotency/note.entity';
import { NOTES_PROTO, notesAppModule } from '../fixtures/idempotency/notes.app';
import { createReplicatedClusters, ReplicatedClusters } from '../utils/replicated-clusters';
import { collect, GrpcClient, unary } from '../utils/sample-app';
import { startOnFreshSchema } from '../utils/start-app';

// Two PostgreSQL clusters are made and dropped around the test.
jest.setTimeout(90000);

interface NoteMessage {
  id: number;
  title: string;
}

/** MikroORM's `replicas` on real streaming replication, with replay paused to show the lag. */
describe('a PostgreSQL read replica', () => {
  let clusters: ReplicatedClusters;
  let served: Awaited<ReturnType<typeof startOnFreshSchema>>;
  let client: GrpcClient;

  beforeAll(async () => {
    clusters = await createReplicatedClusters(`gfw_${process.pid}`, 5440 + (process.pid % 200) * 2);
    await clusters.onPrimary('create database notes');
    const module = notesAppModule(
      {
        driver: PostgreSqlDriver,
        clientUrl: `postgresql://postgres@127.0.0.1:${clusters.primaryPort}/notes`,
        replicas: [{ name: 'replica', host: '127.0.0.1', port: clusters.replicaPort }],
      },
      { readYourWritesMs: 10_000 },
    );
    served = await startOnFreshSchema(module, NOTES_PROTO, 'idempotency.NoteController');
    client = served.serviceClient;
    await clusters.caughtUp();
  });
  afterAll(async () => {
    await served?.close();
    clusters?.drop();
  });

  const call = <T = NoteMessage>(method: string, request: object, metadata = new grpc.Metadata()) =>
    unary<T>(client, method, request, metadata);
  /** A write, with the `x-written-at` it answers with. */
  const write = (method: string, request: object) =>
    new Promise<{ response: NoteMessage; writtenAt: string }>((resolve, reject) => {
      let response: NoteMessage;
      const unaryCall = client[method](request, (error: grpc.ServiceError | null, reply: NoteMessage) =>
        error ? reject(error) : (response = reply),
      );
      (unaryCall as grpc.ClientUnaryCall).on('status', (status: grpc.StatusObject) => {
        if (status.code === 0) resolve({ response, writtenAt: String(status.metadata.get('x-written-at')[0]) });
      });
    });
  const echoing = (writtenAt: string) => {
    const metadata = new grpc.Metadata();
    metadata.set('x-written-at', writtenAt);
    return metadata;
  };
  const listed = async () =>
    (await call<{ results: NoteMessage[] }>('ListPage', { page_size: 100 })).results.map((note) => note.title).sort();

  it('serves Retrieve and ListPage from the replica, and writes and what they read from the primary', async () => {
    const first = await call('Create', { title: 'replicated' });
    await clusters.caughtUp();
    expect(await call('Retrieve', { id: first.id })).toMatchObject({ title: 'replicated' });

    await clusters.pauseReplay();
    try {
      // The primary takes the write; the replica, not replaying, does not have it yet.
      const lagging = await call('Create', { title: 'not replayed yet' });
      await expect(call('Retrieve', { id: lagging.id })).rejects.toMatchObject({ code: status.NOT_FOUND });
      expect(await listed()).toEqual(['replicated']);
      // A write reads what it changes inside its transaction, on the primary: the new row is there.
      expect(await call('Update', { id: lagging.id, title: 'updated on the primary' })).toMatchObject({ title: 'updated on the primary' });
      // A retry's stored response is looked up on the primary too.
      const request = { title: 'retried during lag', request_id: randomUUID() };
      const once = await call('Create', request);
      expect(await call('Create', request)).toEqual(once);
    } finally {
      await clusters.resumeReplay();
    }
    await clusters.caughtUp();
    expect(await listed()).toEqual(['replicated', 'retried during lag', 'updated on the primary']);
    const orm = served.app.get(MikroORM);
    expect(await orm.em.fork().count(Note, { title: 'retried during lag' }, { connectionType: 'write' })).toBe(1);
  });

  it("reads a caller's own write on the primary while it echoes x-written-at, within readYourWritesMs", async () => {
    await clusters.pauseReplay();
    try {
      const { response: note, writtenAt } = await write('Create', { title: 'mine, just written' });
      expect(Number(writtenAt)).toBeGreaterThan(Date.now() - 10_000);
      // Echoing the write's x-written-at: read on the primary, so the caller sees its write.
      expect(await call('Retrieve', { id: note.id }, echoing(writtenAt))).toMatchObject({ title: 'mine, just written' });
      const page = await call<{ results: NoteMessage[] }>('ListPage', { page_size: 100 }, echoing(writtenAt));
      expect(page.results.map((one) => one.title)).toContain('mine, just written');
      // Without it, or with one older than the window, the replica answers, lagging.
      await expect(call('Retrieve', { id: note.id })).rejects.toMatchObject({ code: status.NOT_FOUND });
      await expect(call('Retrieve', { id: note.id }, echoing(String(Date.now() - 60_000)))).rejects.toMatchObject({
        code: status.NOT_FOUND,
      });
      await expect(call('Retrieve', { id: note.id }, echoing('not a time'))).rejects.toMatchObject({ code: status.NOT_FOUND });
    } finally {
      await clusters.resumeReplay();
    }
  });

  it('reads on the primary when the replica is down (Retrieve, ListPage, List)', async () => {
    const note = await call('Create', { title: 'read while the replica is down' });
    await clusters.caughtUp();
    clusters.stopReplica();
    expect(await call('Retrieve', { id: note.id })).toMatchObject({ title: 'read while the replica is down' });
    expect(await listed()).toContain('read while the replica is down');
    const streamed = await collect<NoteMessage>(client, 'List', {});
    expect(streamed.map((one) => one.title)).toContain('read while the replica is down');
  });
});
