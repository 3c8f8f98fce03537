import * as grpc from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { MikroORM } from '@mikro-orm/core';
import type { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { randomUUID } from 'node:crypto';
import { GrpcFrameworkServer, GrpcRequestRecord } from 'nestjs-grpc-framework';
import { Note } from '../fixtures/idempotency/note.entity';
import { NOTES_PROTO, notesAppModule, writesRun } from '../fixtures/idempotency/notes.app';
import { badRequestOf } from '../utils/status-details';
import { unary } from '../utils/sample-app';
import { startupErrorOf } from '../utils/startup-error';
import { startOnFreshSchema } from '../utils/start-app';
import { testDatabase } from '../utils/test-database';

interface NoteMessage {
  id: number;
  title: string;
  length: number;
}

describe('Idempotent writes (request_id, AIP-155)', () => {
  const database = testDatabase();
  let app: INestApplicationContext;
  let orm: MikroORM;
  let server: GrpcFrameworkServer;
  let client: grpc.Client & Record<string, Function>;

  let close: () => Promise<void>;

  beforeAll(async () => {
    const module = notesAppModule(database.options, { web: { url: '127.0.0.1:0' } });
    ({ app, server, serviceClient: client, close } = await startOnFreshSchema(module, NOTES_PROTO, 'idempotency.NoteController'));
    orm = app.get(MikroORM);
  });
  afterAll(async () => {
    await close();
    await database.dispose();
  });

  const call = (method: string, request: object, options: grpc.CallOptions = {}) =>
    unary<NoteMessage>(client as never, method, request, new grpc.Metadata(), options);
  const notesTitled = (title: string) => orm.em.fork().count(Note, { title });
  const records = () => orm.em.fork().count(GrpcRequestRecord, {});

  it('answers a retried Create with the first response and writes once', async () => {
    const request = { title: 'retried create', request_id: randomUUID() };
    const before = writesRun.count;
    const first = await call('Create', request);
    // The client lost that response and retries with the same request_id.
    const retry = await call('Create', request);
    expect(retry).toEqual(first);
    expect(first).toMatchObject({ title: 'retried create', length: 14 });
    expect(writesRun.count).toBe(before + 1);
    expect(await notesTitled('retried create')).toBe(1);
  });

  it('writes once when the retry races the first call', async () => {
    const request = { title: 'raced create', request_id: randomUUID() };
    const answers = await Promise.all([call('Create', request), call('Create', request), call('Create', request)]);
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(answers[0]);
    expect(await notesTitled('raced create')).toBe(1);
  });

  it('writes once across a DEADLINE_EXCEEDED first call and its retry', async () => {
    const request = { title: 'late create', request_id: randomUUID() };
    await expect(call('Create', request, { deadline: Date.now() + 1 })).rejects.toMatchObject({ code: status.DEADLINE_EXCEEDED });
    const retry = await call('Create', request);
    expect(retry.title).toBe('late create');
    expect(await call('Create', request)).toEqual(retry);
    expect(await notesTitled('late create')).toBe(1);
  });

  it('applies a non-idempotent custom write once: the retry gets the stored, serialized response', async () => {
    const note = await call('Create', { title: 'append to me' });
    const request = { id: note.id, text: '!', request_id: randomUUID() };
    const first = await call('Append', request);
    const retry = await call('Append', request);
    expect(first).toEqual({ id: note.id, title: 'append to me!', length: 13 });
    expect(retry).toEqual(first);
    expect((await orm.em.fork().findOneOrFail(Note, note.id)).title).toBe('append to me!');
  });

  it('answers a retried Destroy with OK, not NOT_FOUND, and an Update retry with the first answer', async () => {
    const note = await call('Create', { title: 'to destroy' });
    const update = { id: note.id, title: 'updated once', request_id: randomUUID() };
    const updated = await call('Update', update);
    expect(await call('Update', update)).toEqual(updated);
    const destroy = { id: note.id, request_id: randomUUID() };
    await call('Destroy', destroy);
    await expect(call('Destroy', destroy)).resolves.toEqual({});
    // Without a request_id a second Destroy finds nothing, as before.
    await expect(call('Destroy', { id: note.id })).rejects.toMatchObject({ code: status.NOT_FOUND });
  });

  it("writes a BulkCreate stream once: the request_id of its first message is the stream's", async () => {
    const requestId = randomUUID();
    const send = (titles: string[], ids: string[] = [requestId]) =>
      new Promise<{ notes: NoteMessage[] }>((resolve, reject) => {
        const stream = client.BulkCreate((error: grpc.ServiceError | null, response: { notes: NoteMessage[] }) =>
          error ? reject(error) : resolve(response),
        );
        titles.forEach((title, i) => stream.write({ title, request_id: ids[i] ?? '' }));
        stream.end();
      });
    const first = await send(['bulk one', 'bulk two']);
    expect(first.notes.map((note) => note.title)).toEqual(['bulk one', 'bulk two']);
    expect(await send(['bulk one', 'bulk two'])).toEqual(first);
    expect(await notesTitled('bulk one')).toBe(1);
    // Another stream under the same id, and a stream whose messages disagree on it, are refused.
    await expect(send(['bulk three'])).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
    const mixed = await send(['bulk four', 'bulk five'], [randomUUID(), randomUUID()]).catch((e: grpc.ServiceError) => e);
    expect(badRequestOf(mixed as grpc.ServiceError).violations.map((v) => v.field)).toEqual(['items[1].request_id']);
    expect(await notesTitled('bulk four')).toBe(0);
  });

  it('refuses the same request_id with a different request, naming the field', async () => {
    const requestId = randomUUID();
    await call('Create', { title: 'first of an id', request_id: requestId });
    const error = await call('Create', { title: 'another request', request_id: requestId }).catch((e: grpc.ServiceError) => e);
    expect(error).toMatchObject({ code: status.INVALID_ARGUMENT });
    expect(badRequestOf(error as grpc.ServiceError).violations.map((violation) => violation.field)).toEqual(['request_id']);
    expect((error as grpc.ServiceError).details).toContain('was used by a different request');
    expect(await notesTitled('another request')).toBe(0);
  });

  it('refuses a request_id that is not a UUID before writing anything', async () => {
    const error = await call('Create', { title: 'bad id', request_id: 'retry-1' }).catch((e: grpc.ServiceError) => e);
    expect(error).toMatchObject({ code: status.INVALID_ARGUMENT });
    expect(badRequestOf(error as grpc.ServiceError).violations[0]).toMatchObject({ field: 'request_id' });
    expect(await notesTitled('bad id')).toBe(0);
  });

  it('writes every time without a request_id, as before', async () => {
    const before = await records();
    await call('Create', { title: 'no id one' });
    await call('Create', { title: 'no id two' });
    expect(await records()).toBe(before);
  });

  it('recognises the same request sent over the web address as JSON', async () => {
    const request = { title: 'sent twice, two ways', request_id: randomUUID() };
    const first = await call('Create', request);
    const response = await fetch(`http://${server.webAddress!}/idempotency.NoteController/Create`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title: request.title, requestId: request.request_id }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ id: first.id, title: first.title, length: first.length });
    expect(await notesTitled(request.title)).toBe(1);
  });

  it('treats a retry after the retention period as a new request, and deletes expired records', async () => {
    const other = testDatabase();
    const short = await startOnFreshSchema(
      notesAppModule(other.options, { requestIdRetentionMs: 200 }),
      NOTES_PROTO,
      'idempotency.NoteController',
    );
    try {
      const shortOrm = short.app.get(MikroORM);
      const shortClient = short.serviceClient;
      const request = { title: 'kept briefly', request_id: randomUUID() };
      await unary(shortClient as never, 'Create', request);
      expect(await shortOrm.em.fork().count(GrpcRequestRecord, {})).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 700));
      // The record is gone, so the retry writes again, and the unique title refuses it.
      expect(await shortOrm.em.fork().count(GrpcRequestRecord, {})).toBe(0);
      await expect(unary(shortClient as never, 'Create', request)).rejects.toMatchObject({ code: status.ALREADY_EXISTS });
    } finally {
      await short.close();
      await other.dispose();
    }
  });

  it('names the missing GrpcRequestRecord entity at start-up', async () => {
    const other = testDatabase();
    const moduleRef = await Test.createTestingModule({ imports: [notesAppModule(other.options, {}, [Note])] }).compile();
    const error = (await startupErrorOf(moduleRef)) as Error;
    await other.dispose();
    expect(error.message).toContain(
      '/idempotency.NoteController/Create, /idempotency.NoteController/Update, /idempotency.NoteController/Destroy, ' +
        '/idempotency.NoteController/Append, /idempotency.NoteController/BulkCreate take a request_id',
    );
    expect(error.message).toContain(
      "add GrpcRequestRecord (import { GrpcRequestRecord } from 'nestjs-grpc-framework') to MikroORM's entities",
    );
  });
});
