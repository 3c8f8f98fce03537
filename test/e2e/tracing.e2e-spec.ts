import * as grpc from '@grpc/grpc-js';
import { Metadata, status } from '@grpc/grpc-js';
import { MikroORM } from '@mikro-orm/core';
import type { INestApplicationContext } from '@nestjs/common';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { GrpcFrameworkServer } from 'nestjs-grpc-framework';
import { startTracing } from '../../sample/tracing';
import { ACTIONS_PROTO, tasksAppModule } from '../fixtures/actions/tasks.app';
import { unary } from '../utils/sample-app';
import { startOnFreshSchema } from '../utils/start-app';
import { TEST_DB, testDatabase } from '../utils/test-database';

const CALLER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';
const TRACEPARENT = `00-${CALLER_TRACE}-${CALLER_SPAN}-01`;

describe('OpenTelemetry spans (tracing)', () => {
  const database = testDatabase();
  const exporter = new InMemorySpanExporter();
  let app: INestApplicationContext;
  let server: GrpcFrameworkServer;
  let client: grpc.Client & Record<string, Function>;
  let taskId: number;
  let close: () => Promise<void>;

  beforeAll(async () => {
    // The README's set-up, with each span kept in memory as it ends.
    startTracing(exporter, (spans) => new SimpleSpanProcessor(spans));
    const module = tasksAppModule(database.options, { tracing: true, web: { url: '127.0.0.1:0' } });
    ({ app, server, serviceClient: client, close } = await startOnFreshSchema(module, ACTIONS_PROTO, 'actions.TaskController'));
    taskId = (await unary<{ id: number }>(client as never, 'Create', { title: 'traced' })).id;
  });
  afterAll(async () => {
    await close();
    await database.dispose();
    trace.disable();
    context.disable();
    propagation.disable();
  });
  beforeEach(() => exporter.reset());

  const withTraceparent = (value: string) => {
    const metadata = new Metadata();
    metadata.set('traceparent', value);
    return metadata;
  };
  const serverSpan = (method: string): ReadableSpan => {
    const spans = exporter.getFinishedSpans().filter((span) => span.name === `actions.TaskController/${method}`);
    expect(spans).toHaveLength(1);
    return spans[0]!;
  };

  it("makes a SERVER span per call in the caller's trace, with a child span for the query", async () => {
    await unary(client as never, 'Retrieve', { id: taskId }, withTraceparent(TRACEPARENT));
    const span = serverSpan('Retrieve');
    expect(span.kind).toBe(SpanKind.SERVER);
    expect(span.spanContext().traceId).toBe(CALLER_TRACE);
    expect(span.parentSpanContext?.spanId).toBe(CALLER_SPAN);
    expect(span.attributes).toEqual({
      'rpc.system': 'grpc',
      'rpc.service': 'actions.TaskController',
      'rpc.method': 'Retrieve',
      'rpc.grpc.status_code': status.OK,
    });
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(span.instrumentationScope.name).toBe('nestjs-grpc-framework');

    const queries = exporter.getFinishedSpans().filter((one) => one.parentSpanContext?.spanId === span.spanContext().spanId);
    expect(queries).toHaveLength(1);
    const [query] = queries;
    expect(query!.kind).toBe(SpanKind.CLIENT);
    expect(query!.name).toBe('SELECT');
    expect(query!.spanContext().traceId).toBe(CALLER_TRACE);
    expect(query!.attributes['db.system.name']).toBe(TEST_DB === 'postgres' ? 'postgresql' : 'sqlite');
    // The statement with its placeholder: the values are not in the span.
    expect(query!.attributes['db.query.text']).toMatch(/^select .* from .actions_task. as .t0. where .t0.\..id. = (\?|\$1) limit 1$/);
  });

  it("marks server errors as the span's error, and a client's mistake only by its code", async () => {
    await expect(unary(client as never, 'Retrieve', { id: 999 })).rejects.toMatchObject({ code: status.NOT_FOUND });
    const notFound = serverSpan('Retrieve');
    expect(notFound.attributes['rpc.grpc.status_code']).toBe(status.NOT_FOUND);
    expect(notFound.status.code).toBe(SpanStatusCode.UNSET);

    const orm = app.get(MikroORM);
    await orm.em.getConnection().execute('drop table actions_task');
    try {
      exporter.reset();
      await expect(unary(client as never, 'Count', {})).rejects.toMatchObject({ code: status.INTERNAL });
      const failed = serverSpan('Count');
      expect(failed.attributes['rpc.grpc.status_code']).toBe(status.INTERNAL);
      expect(failed.status).toEqual({ code: SpanStatusCode.ERROR, message: 'Internal server error' });
    } finally {
      await orm.getSchemaGenerator().refreshDatabase();
      taskId = (await unary<{ id: number }>(client as never, 'Create', { title: 'traced' })).id;
    }
  });

  it('starts a new trace when the traceparent is missing or malformed, and never fails the call for it', async () => {
    await unary(client as never, 'Retrieve', { id: taskId }, withTraceparent('00-not-a-trace-01'));
    const malformed = serverSpan('Retrieve');
    expect(malformed.parentSpanContext).toBeUndefined();
    expect(malformed.spanContext().traceId).not.toBe(CALLER_TRACE);
    expect(malformed.spanContext().traceId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('traces streams when they end, and web calls from their traceparent header', async () => {
    const found = await new Promise<unknown[]>((resolve, reject) => {
      const items: unknown[] = [];
      const call: grpc.ClientReadableStream<unknown> = client.Search({ prefix: 'tr' }, withTraceparent(TRACEPARENT));
      call
        .on('data', (item) => items.push(item))
        .on('error', reject)
        .on('end', () => resolve(items));
    });
    expect(found).toHaveLength(1);
    const search = serverSpan('Search');
    expect(search.spanContext().traceId).toBe(CALLER_TRACE);
    expect(search.attributes['rpc.grpc.status_code']).toBe(status.OK);

    const web = await fetch(`http://${server.webAddress!}/actions.TaskController/Count`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: TRACEPARENT },
      body: '{}',
    });
    expect(await web.json()).toEqual({ count: 1 });
    const count = serverSpan('Count');
    expect(count.spanContext().traceId).toBe(CALLER_TRACE);
    expect(count.parentSpanContext?.spanId).toBe(CALLER_SPAN);
  });

  it('uses the tracer provider it is given, and leaves the queries out with databaseSpans: false', async () => {
    const own = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(own)] });
    const other = testDatabase();
    const module = tasksAppModule(other.options, { tracing: { tracerProvider: provider, databaseSpans: false } });
    const second = await startOnFreshSchema(module, ACTIONS_PROTO, 'actions.TaskController');
    try {
      await expect(unary(second.serviceClient, 'Retrieve', { id: 1 })).rejects.toMatchObject({ code: status.NOT_FOUND });
      expect(own.getFinishedSpans().map((span) => span.name)).toEqual(['actions.TaskController/Retrieve']);
      expect(exporter.getFinishedSpans()).toEqual([]);
    } finally {
      await second.close();
      await other.dispose();
    }
  });
});
