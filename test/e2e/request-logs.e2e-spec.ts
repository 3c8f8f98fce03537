import { Metadata, ServiceError, status } from '@grpc/grpc-js';
import { MikroORM } from '@mikro-orm/core';
import { ConsoleLogger, INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { GrpcFrameworkServer, ProtoMessage, RequestLogLine } from 'nestjs-grpc-framework';
import { ACTIONS_PROTO, tasksAppModule } from '../fixtures/actions/tasks.app';
import { collect, unary } from '../utils/sample-app';
import { testDatabase } from '../utils/test-database';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/** A Nest logger that keeps what it is given, as an application's pino or winston logger would receive it. */
class CapturingLogger extends ConsoleLogger {
  readonly lines: { level: string; message: unknown; context?: string }[] = [];
  override log(message: unknown, context?: string): void {
    this.lines.push({ level: 'log', message, context });
  }
  override debug(message: unknown, context?: string): void {
    this.lines.push({ level: 'debug', message, context });
  }
  override warn(message: unknown, context?: string): void {
    this.lines.push({ level: 'warn', message, context });
  }
  override error(message: unknown, context?: string): void {
    this.lines.push({ level: 'error', message, context });
  }
}

describe('request logs', () => {
  const database = testDatabase();
  const logger = new CapturingLogger();
  let app: INestApplicationContext;
  let client: grpc.Client & Record<string, Function>;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        tasksAppModule(database.options, {
          requestLogs: { level: 'debug', caller: (user) => (user as { name: string }).name },
          web: { url: '127.0.0.1:0' },
        }),
      ],
    }).compile();
    moduleRef.useLogger(logger);
    app = await moduleRef.init();
    await app.get(MikroORM).getSchemaGenerator().refreshDatabase();
    const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(ACTIONS_PROTO, { keepCase: true, defaults: true }));
    const Client = (pkg.actions as grpc.GrpcObject).TaskController as typeof grpc.Client;
    client = new Client(`127.0.0.1:${app.get(GrpcFrameworkServer).port}`, grpc.credentials.createInsecure()) as typeof client;
  });
  afterAll(async () => {
    client.close();
    await app.close();
    await database.dispose();
  });

  const requestLines = () =>
    logger.lines
      .filter((line) => line.context === 'GrpcRequest')
      .map((line) => ({ level: line.level, ...(line.message as RequestLogLine) }));

  it('logs one structured line per call, of every kind and on both addresses, with its status, duration, peer, caller and request id', async () => {
    logger.lines.length = 0;
    const traced = new Metadata();
    traced.set('x-request-id', 'req-42');
    traced.set('x-user', 'bob:editor');
    const created = await unary(client as never, 'Create', { title: 'a secret title' }, traced);
    await expect(unary(client as never, 'Retrieve', { id: 999 })).rejects.toMatchObject({ code: status.NOT_FOUND });
    const viewer = new Metadata();
    viewer.set('x-user', 'ann:viewer');
    await expect(unary(client as never, 'MarkDone', { id: created.id }, viewer)).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
    expect(await collect(client as never, 'Search', { prefix: '' })).toHaveLength(1);
    await new Promise<ProtoMessage>((resolve, reject) => {
      const call = client.Import((error: ServiceError | null, response: ProtoMessage) => (error ? reject(error) : resolve(response)));
      call.write({ title: 'two' });
      call.end();
    });
    const web = await fetch(`http://${app.get(GrpcFrameworkServer).webAddress!}/actions.TaskController/Count`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'from-the-browser' },
      body: '{}',
    });
    expect(web.status).toBe(200);
    const lines = requestLines();
    expect(lines.map(({ rpc, code, caller, requestId, level }) => ({ rpc, code, caller, requestId, level }))).toEqual([
      { rpc: '/actions.TaskController/Create', code: 'OK', caller: 'bob', requestId: 'req-42', level: 'debug' },
      { rpc: '/actions.TaskController/Retrieve', code: 'NOT_FOUND', caller: undefined, requestId: undefined, level: 'debug' },
      { rpc: '/actions.TaskController/MarkDone', code: 'PERMISSION_DENIED', caller: 'ann', requestId: undefined, level: 'debug' },
      { rpc: '/actions.TaskController/Search', code: 'OK', caller: undefined, requestId: undefined, level: 'debug' },
      { rpc: '/actions.TaskController/Import', code: 'OK', caller: undefined, requestId: undefined, level: 'debug' },
      { rpc: '/actions.TaskController/Count', code: 'OK', caller: undefined, requestId: 'from-the-browser', level: 'debug' },
    ]);
    for (const line of lines) {
      expect(line.ms).toBeGreaterThanOrEqual(0);
      expect(line.peer).toMatch(/^(ipv4:)?127\.0\.0\.1:\d+$/);
    }
    // Never a message body or a credential.
    expect(JSON.stringify(lines)).not.toContain('secret');
    expect(JSON.stringify(lines)).not.toContain('editor');
  });
});
