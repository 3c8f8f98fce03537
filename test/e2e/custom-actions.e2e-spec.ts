import { Metadata, ServiceError, status } from '@grpc/grpc-js';
import { MikroORM } from '@mikro-orm/core';
import { MikroOrmModule } from '@mikro-orm/nestjs';
import { Module, Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  GrpcAction,
  GrpcFrameworkModule,
  GrpcModelService,
  ImproperlyConfiguredError,
  ModelService,
  ProtoMessage,
} from 'nestjs-grpc-framework';
import { RenameSerializer, ACTIONS_PROTO, TaskSerializer, tasksAppModule } from '../fixtures/actions/tasks.app';
import { Task } from '../fixtures/actions/task.entity';
import { badRequestOf, failureOf } from '../utils/status-details';
import { collect, GrpcClient, unary } from '../utils/sample-app';
import { startApp } from '../utils/start-app';
import { startupErrorOf } from '../utils/startup-error';
import { testDatabase } from '../utils/test-database';

const as = (user: string) => {
  const metadata = new Metadata();
  metadata.set('x-user', user);
  return metadata;
};

describe('custom actions (@GrpcAction)', () => {
  const database = testDatabase();
  let running: Awaited<ReturnType<typeof startApp>>;
  let tasks: GrpcClient;
  let first: { id: number };

  beforeAll(async () => {
    running = await startApp(tasksAppModule(database.options), ACTIONS_PROTO);
    await running.app.get(MikroORM).getSchemaGenerator().refreshDatabase();
    tasks = running.client('actions.TaskController');
    first = await unary(tasks, 'Create', { title: 'write docs' });
    await unary(tasks, 'Create', { title: 'write tests' });
    await unary(tasks, 'Create', { title: 'water plants' });
  });
  afterAll(async () => {
    await running.close();
    await database.dispose();
  });

  it('serves an action next to the mixins: inline request fields, the response serialized, its own permissions', async () => {
    const refused = await failureOf(unary(tasks, 'MarkDone', { id: first.id }, as('ann:viewer')));
    expect({ code: refused.code, details: refused.details }).toEqual({
      code: status.PERMISSION_DENIED,
      details: 'Only editors may mark tasks done.',
    });
    const anonymous = await failureOf(unary(tasks, 'MarkDone', { id: first.id }));
    expect(anonymous.code).toBe(status.UNAUTHENTICATED);
    await expect(unary(tasks, 'Retrieve', { id: first.id })).resolves.toMatchObject({ done: false });

    await expect(unary(tasks, 'MarkDone', { id: first.id }, as('bob:editor'))).resolves.toEqual({
      id: first.id,
      title: 'write docs',
      done: true,
    });
    const missing = await failureOf(unary(tasks, 'MarkDone', { id: 999 }, as('bob:editor')));
    expect({ code: missing.code, details: missing.details }).toEqual({ code: status.NOT_FOUND, details: 'Task: 999 not found' });
  });

  it('validates a request with its serializer before the handler runs, which receives the validated data', async () => {
    const invalid = await failureOf(unary(tasks, 'Rename', { id: first.id, title: 'a title far longer than twenty' }));
    expect(badRequestOf(invalid).violations).toEqual([
      expect.objectContaining({ field: 'title', description: expect.stringContaining('20') }),
    ]);
    await expect(unary(tasks, 'Retrieve', { id: first.id })).resolves.toMatchObject({ title: 'write docs' });
    await expect(unary(tasks, 'Rename', { id: first.id, title: '  docs  ' })).resolves.toMatchObject({ title: 'docs' });
  });

  it('streams serialized objects from a server-streaming action, batches and single objects alike', async () => {
    const found = await collect<{ title: string }>(tasks, 'Search', { prefix: 'w' });
    expect(found.map((task) => task.title)).toEqual(['write tests', 'water plants']);
    const all = await collect<{ title: string }>(tasks, 'Search', { prefix: '' });
    expect(all.map((task) => task.title)).toEqual(['docs', 'write tests', 'water plants']);
  });

  it('validates each message of a client stream, and writes nothing when one is invalid', async () => {
    const upload = (titles: string[]) =>
      new Promise<ProtoMessage>((resolve, reject) => {
        const call = tasks.Import((error: ServiceError | null, response: ProtoMessage) => (error ? reject(error) : resolve(response)));
        for (const title of titles) call.write({ title });
        call.end();
      });
    const invalid = await failureOf(upload(['one', '', 'three']));
    expect(badRequestOf(invalid).violations).toEqual([expect.objectContaining({ field: 'items[1].title' })]);
    await expect(unary(tasks, 'Count', {})).resolves.toEqual({ count: 3 });
    await expect(upload(['one', 'two'])).resolves.toEqual({ created: 2 });
    await expect(unary(tasks, 'Count', {})).resolves.toEqual({ count: 5 });
  });

  it("applies the service's per-action permissions to an action that names none, and answers Empty for nothing returned", async () => {
    const refused = await failureOf(unary(tasks, 'Purge', {}, as('bob:editor')));
    expect({ code: refused.code, details: refused.details }).toEqual({ code: status.PERMISSION_DENIED, details: 'Only admins may purge.' });
    await expect(unary(tasks, 'Count', {})).resolves.toEqual({ count: 5 });
    await expect(unary(tasks, 'Purge', {}, as('cy:admin'))).resolves.toEqual({});
    await expect(unary(tasks, 'Count', {})).resolves.toEqual({ count: 0 });
  });
});

/** Boots `controllers` over the actions proto and returns the start-up error's message. */
async function startupError(controllers: Type[]): Promise<string> {
  @Module({
    imports: [
      MikroOrmModule.forRoot({ ...testDatabase().options, entities: [Task], registerRequestContext: false }),
      GrpcFrameworkModule.forRoot({ protoPath: ACTIONS_PROTO, url: '127.0.0.1:0' }),
    ],
    controllers,
  })
  class AppModule {}
  const error = await startupErrorOf(await Test.createTestingModule({ imports: [AppModule] }).compile());
  expect(error).toBeInstanceOf(ImproperlyConfiguredError);
  return (error as Error).message;
}

describe('custom actions are checked at start-up', () => {
  it('names an action without an rpc, a streaming mismatch, messages that differ, a reused rpc name and permissions given twice', async () => {
    @GrpcModelService({
      service: 'actions.TaskController',
      serializer: TaskSerializer,
      permissions: { default: [], Purge: [] },
    })
    class WrongTaskService extends ModelService(Task) {
      @GrpcAction({ request: RenameSerializer, response: TaskSerializer })
      async Archive(): Promise<void> {}

      @GrpcAction({ request: { prefix: 'string' }, response: TaskSerializer })
      async Search(): Promise<void> {}

      @GrpcAction({ request: { id: 'int64', reason: 'string' }, response: 'Task' })
      async MarkDone(): Promise<void> {}

      @GrpcAction({ request: 'Task', response: TaskSerializer })
      async Rename(): Promise<void> {}

      @GrpcAction({ response: TaskSerializer })
      override async Create(): Promise<ProtoMessage> {
        return {};
      }

      @GrpcAction({ permissions: [] })
      async Purge(): Promise<void> {}

      @GrpcAction({ request: undefined, response: 'CountResponse' })
      async Count(): Promise<void> {}
    }
    const message = await startupError([WrongTaskService]);
    const where = (action: string) => `WrongTaskService.${action} (@GrpcAction, actions.TaskController in ${ACTIONS_PROTO})`;
    expect(message).toContain(
      `${where('Archive')}: the proto service has no rpc Archive. Add \`rpc Archive(Rename) returns (Task);\` to service TaskController`,
    );
    expect(message).toContain(`${where('Search')}: the rpc's response is a stream, but the action says responseStream: false.`);
    expect(message).toContain(`${where('MarkDone')}: the request field "id" is int64 in the action but int32 in actions.MarkDoneRequest.`);
    expect(message).toContain(`${where('MarkDone')}: the request field "reason" (string) is not in message actions.MarkDoneRequest.`);
    expect(message).toContain(`${where('Rename')}: the action's request is Task, but the rpc's is actions.RenameRequest.`);
    expect(message).toContain(`${where('Create')}: Create is already an rpc handler of CreateModelMixin(`);
    expect(message).toContain('the permissions of Purge are given twice, by @GrpcAction({ permissions }) and by the service');
    expect(message).toContain(`${where('Count')}: request is undefined, as an import cycle leaves a class it names`);
    // Rpcs of the proto without a handler are still named as before.
    expect(message).toContain('rpc Import has no handler');
  });
});
