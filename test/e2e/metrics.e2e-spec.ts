import * as grpc from '@grpc/grpc-js';
import { Metadata, ServiceError, status } from '@grpc/grpc-js';
import { MikroORM } from '@mikro-orm/core';
import type { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { GrpcFrameworkServer, ProtoMessage } from 'nestjs-grpc-framework';
import { ACTIONS_PROTO, tasksAppModule } from '../fixtures/actions/tasks.app';
import { collect, unary } from '../utils/sample-app';
import { startupErrorOf } from '../utils/startup-error';
import { startOnFreshSchema } from '../utils/start-app';
import { testDatabase } from '../utils/test-database';

describe('Prometheus metrics (metrics: { url })', () => {
  const database = testDatabase();
  let app: INestApplicationContext;
  let server: GrpcFrameworkServer;
  let client: grpc.Client & Record<string, Function>;

  let close: () => Promise<void>;

  beforeAll(async () => {
    const module = tasksAppModule(database.options, { metrics: { url: '127.0.0.1:0' }, web: { url: '127.0.0.1:0' } });
    ({ app, server, serviceClient: client, close } = await startOnFreshSchema(module, ACTIONS_PROTO, 'actions.TaskController'));
  });
  afterAll(async () => {
    await close();
    await database.dispose();
  });

  const scrape = async () => {
    const response = await fetch(`http://${server.metricsAddress!}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    return response.text();
  };
  const labels = (method: string, type = 'unary', protocol = 'grpc') =>
    `grpc_type="${type}",grpc_service="actions.TaskController",grpc_method="${method}",protocol="${protocol}"`;

  it("counts every kind of call by go-grpc-prometheus's names, codes and buckets, and web calls with their protocol", async () => {
    const created = await unary<{ id: number }>(client as never, 'Create', { title: 'one' });
    await unary(client as never, 'Create', { title: 'two' });
    await expect(unary(client as never, 'Retrieve', { id: 999 })).rejects.toMatchObject({ code: status.NOT_FOUND });
    const viewer = new Metadata();
    viewer.set('x-user', 'ann:viewer');
    await expect(unary(client as never, 'MarkDone', { id: created.id }, viewer)).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
    expect(await collect(client as never, 'Search', { prefix: '' })).toHaveLength(2);
    await new Promise<ProtoMessage>((resolve, reject) => {
      const call = client.Import((error: ServiceError | null, response: ProtoMessage) => (error ? reject(error) : resolve(response)));
      for (const title of ['three', 'four', 'five']) call.write({ title });
      call.end();
    });
    const lookup = client.Lookup();
    const found: Array<{ title: string }> = [];
    lookup.on('data', (task: { title: string }) => found.push(task));
    const lookedUp = new Promise((resolve, reject) => lookup.on('end', resolve).on('error', reject));
    lookup.write({ id: created.id });
    lookup.write({ id: created.id + 1 });
    lookup.end();
    await lookedUp;
    expect(found.map((task) => task.title)).toEqual(['one', 'two']);
    const web = await fetch(`http://${server.webAddress!}/actions.TaskController/Count`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(await web.json()).toEqual({ count: 5 });

    const text = await scrape();
    expect(text).toContain(`grpc_server_started_total{${labels('Create')}} 2`);
    expect(text).toContain(`grpc_server_handled_total{${labels('Create')},grpc_code="OK"} 2`);
    expect(text).toContain(`grpc_server_handled_total{${labels('Retrieve')},grpc_code="NotFound"} 1`);
    expect(text).toContain(`grpc_server_handled_total{${labels('MarkDone')},grpc_code="PermissionDenied"} 1`);
    expect(text).toContain(`grpc_server_msg_sent_total{${labels('Search', 'server_stream')}} 2`);
    expect(text).toContain(`grpc_server_msg_received_total{${labels('Import', 'client_stream')}} 3`);
    expect(text).toContain(`grpc_server_handled_total{${labels('Count', 'unary', 'web')},grpc_code="OK"} 1`);
    expect(text).toContain(`grpc_server_msg_received_total{${labels('Lookup', 'bidi_stream')}} 2`);
    expect(text).toContain(`grpc_server_msg_sent_total{${labels('Lookup', 'bidi_stream')}} 2`);
    expect(text).toContain(`grpc_server_handled_total{${labels('Lookup', 'bidi_stream')},grpc_code="OK"} 1`);
    // The pool's connections: none in use between calls.
    expect(text).toMatch(/^grpc_framework_db_pool_connections\{state="used"\} 0$/m);
    expect(text).toMatch(/^grpc_framework_db_pool_connections\{state="free"\} [1-9]/m);
    expect(text).toContain(`grpc_server_handling_seconds_bucket{le="0.005",${labels('Create')}}`);
    expect(text).toContain(`grpc_server_handling_seconds_count{${labels('Create')}} 2`);
    expect(text).toContain('grpc_server_in_flight_calls{protocol="grpc"} 0');
    expect(text).toMatch(/^grpc_framework_stream_memory_bytes 0$/m);
    // Node's process metrics are opt-in; labels only name rpcs the server serves.
    expect(text).not.toContain('process_cpu');
    expect(text).not.toContain('grpc_method="Unknown');
  });

  it('counts every status code under its go-grpc-prometheus name', async () => {
    const codes = Object.entries(status).filter(([, code]) => typeof code === 'number' && code > 0) as [string, number][];
    for (const [, code] of codes) {
      await expect(unary(client as never, 'Fail', { code })).rejects.toMatchObject({ code });
    }
    const text = await scrape();
    // go-grpc-prometheus writes Go's names for the codes: Canceled, InvalidArgument, ...
    const names = ['Canceled', 'Unknown', 'InvalidArgument', 'DeadlineExceeded', 'NotFound', 'AlreadyExists', 'PermissionDenied'];
    names.push('ResourceExhausted', 'FailedPrecondition', 'Aborted', 'OutOfRange', 'Unimplemented', 'Internal', 'Unavailable');
    names.push('DataLoss', 'Unauthenticated');
    expect(codes).toHaveLength(names.length);
    for (const name of names) expect(text).toContain(`grpc_server_handled_total{${labels('Fail')},grpc_code="${name}"} 1`);
    expect(text).toContain(`grpc_server_started_total{${labels('Fail')}} ${names.length}`);
  });

  it('answers or closes cleanly a scrape that arrives while the server shuts down', async () => {
    const other = testDatabase();
    const moduleRef = await Test.createTestingModule({
      imports: [tasksAppModule(other.options, { metrics: { url: '127.0.0.1:0' } })],
    }).compile();
    moduleRef.useLogger(false);
    const closing = await moduleRef.init();
    const address = closing.get(GrpcFrameworkServer).metricsAddress!;
    const scrapes = Array.from({ length: 5 }, () =>
      fetch(`http://${address}/metrics`).then(
        (response) => response.status,
        () => 'closed',
      ),
    );
    await closing.close();
    await other.dispose();
    for (const outcome of await Promise.all(scrapes)) expect([200, 'closed']).toContain(outcome);
    await expect(fetch(`http://${address}/metrics`)).rejects.toThrow();
  });

  it('counts calls that failed in the database by kind', async () => {
    const orm = app.get(MikroORM);
    await orm.em.getConnection().execute('drop table actions_task');
    try {
      await expect(unary(client as never, 'Count', {})).rejects.toMatchObject({ code: status.INTERNAL });
      expect(await scrape()).toContain('grpc_framework_db_errors_total{kind="other"} 1');
    } finally {
      await orm.getSchemaGenerator().refreshDatabase();
    }
  });

  it('names a metrics address in use at start-up', async () => {
    const other = testDatabase();
    const moduleRef = await Test.createTestingModule({
      imports: [tasksAppModule(other.options, { metrics: { url: server.metricsAddress! } })],
    }).compile();
    const error = await startupErrorOf(moduleRef);
    await other.dispose();
    expect((error as Error).message).toContain(
      `GrpcFrameworkModule could not serve metrics on ${server.metricsAddress!}: listen EADDRINUSE`,
    );
    expect((error as Error).message).toContain('Choose another metrics.url (or runserver --metrics)');
  });

  it('answers 404 off /metrics', async () => {
    expect((await fetch(`http://${server.metricsAddress!}/other`)).status).toBe(404);
  });
});
