import * as grpc from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { GrpcTestingApp, useGrpcTestingApp } from 'nestjs-grpc-framework/testing';
import { MikroOrmModule } from '@mikro-orm/nestjs';
import { GrpcFrameworkModule, GrpcFrameworkServer } from 'nestjs-grpc-framework';
import { Group } from '../../sample/account/group.entity';
import { User } from '../../sample/account/user.entity';
import { RacingUserService } from '../fixtures/racing-user.service';
import { SAMPLE_PROTOS, SampleAppModule } from '../../sample/app.module';
import { Post } from '../../sample/blog/post.entity';
import { EchoAppModule } from '../fixtures/echo.app';
import { serverErrorsDuring } from '../utils/captured-logs';
import { badRequestOf } from '../utils/status-details';
import { clientServiceDefinition } from '../../lib/client/promise-client';
import { clientPackage, startSample, unary, collect, GrpcClient, RunningSample } from '../utils/sample-app';
import { testDatabase } from '../utils/test-database';

const database = testDatabase();
afterAll(() => database.dispose());

describe('useGrpcTestingApp with transaction isolation (the seed tutorial tests)', () => {
  const t = useGrpcTestingApp({ imports: [SampleAppModule.register({ database: database.options })] });

  // The seed's two tutorial tests (create a post, list posts) are test/e2e/blog-tutorial.e2e-spec.ts.
  it('sees what the test itself wrote, through t.em', async () => {
    t.em.create(Post, { title: 'title1', content: 'content1' });
    await t.em.flush();
    expect(await t.client('blog_proto.PostController').List({}).toArray()).toHaveLength(1);
  });

  it('starts each test from an empty database', async () => {
    expect(await t.em.count(Post)).toBe(0);
  });

  it('rolls back a failed write inside the test transaction', async () => {
    const users = t.client('account.UserController');
    await users.Create({ username: 'tom' });
    await expect(users.Create({ username: 'tom' })).rejects.toMatchObject({ code: status.ALREADY_EXISTS });
    await expect(users.Create({ username: 'ann', groups: [999] })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
    expect(await t.em.count(User)).toBe(1);
  });

  it('works with clients made from generated constructors', async () => {
    const pkg = clientPackage() as unknown as { blog_proto: { PostController: typeof grpc.Client } };
    const stub = t.stub(pkg.blog_proto.PostController) as grpc.Client & Record<string, Function>;
    const created = await new Promise<Record<string, unknown>>((resolve, reject) =>
      stub.Create({ title: 'stub', content: 'c' }, (e: Error | null, r: Record<string, unknown>) => (e ? reject(e) : resolve(r))),
    );
    expect(created).toMatchObject({ title: 'stub' });
    const listed: unknown[] = [];
    for await (const post of stub.List({}) as grpc.ClientReadableStream<unknown>) listed.push(post);
    expect(listed).toEqual([created]);
  });
});

describe('transaction isolation when the database index catches a duplicate', () => {
  const db = testDatabase();
  afterAll(() => db.dispose());
  const t = useGrpcTestingApp(
    {
      imports: [
        MikroOrmModule.forRoot({ ...db.options, entities: [User, Group], registerRequestContext: false }),
        GrpcFrameworkModule.forRoot({ protoPath: SAMPLE_PROTOS.slice(0, 1) }),
      ],
      controllers: [RacingUserService],
    },
    { schema: 'create' },
  );

  it('answers ALREADY_EXISTS naming the field and keeps the test transaction usable', async () => {
    const users = t.client('account.UserController');
    await users.Create({ username: 'twin' });
    await expect(users.Create({ username: 'twin' })).rejects.toMatchObject({
      code: status.ALREADY_EXISTS,
      details: 'username: User with this username already exists.',
    });
    await users.Create({ username: 'other' });
    expect(await t.em.count(User)).toBe(2);
  });
});

describe('useGrpcTestingApp with truncate isolation', () => {
  const db = testDatabase();
  afterAll(() => db.dispose());
  const t = useGrpcTestingApp({ imports: [SampleAppModule.register({ database: db.options })] }, { isolation: 'truncate' });

  it('commits for real, so concurrent calls work', async () => {
    const users = t.client('account.UserController');
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => users.Create({ username: 'same' })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    await Promise.all(Array.from({ length: 10 }, (_, i) => users.Create({ username: `u${i}` })));
    expect(await t.em.count(User)).toBe(11);
  });

  it('empties the tables after each test', async () => {
    expect(await t.em.count(User)).toBe(0);
  });
});

describe('the in-process channel', () => {
  let app: GrpcTestingApp;
  beforeAll(async () => {
    app = await GrpcTestingApp.create({ imports: [EchoAppModule] });
  });
  afterAll(() => app.close());

  it('runs guards with call metadata and maps errors like the socket does', async () => {
    const echo = app.client('echo.EchoService');
    await expect(echo.Fail({ id: 1 })).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
    const metadata = new grpc.Metadata();
    metadata.set('authorization', 'Bearer letmein');
    const logged = await serverErrorsDuring(() =>
      expect(echo.Fail({ id: 1 }, metadata)).rejects.toMatchObject({ code: status.INTERNAL, details: 'Internal server error' }),
    );
    expect(logged).toEqual([expect.stringContaining('/echo.EchoService/Fail failed\nError: secret database password in the stack')]);
  });

  it('keeps overlapping calls apart', async () => {
    const echo = app.client('echo.EchoService');
    const replies = await Promise.all(Array.from({ length: 64 }, (_, id) => echo.Echo({ id, delay_ms: (id * 7) % 23 })));
    replies.forEach((reply: { id: number; seen_by: string }, id) => expect(reply).toMatchObject({ id, seen_by: `request ${id}` }));
  });

  it('applies deadlines', async () => {
    const echo = app.client('echo.EchoService');
    await expect(echo.Echo({ id: 1, delay_ms: 300 }, new grpc.Metadata(), { deadline: Date.now() + 50 })).rejects.toMatchObject({
      code: status.DEADLINE_EXCEEDED,
    });
  });

  it('streams as an async iterable with backpressure and stops on cancel', async () => {
    const echo = app.client('echo.EchoService');
    const call: grpc.ClientReadableStream<{ id: number }> = echo.Count({ up_to: 1_000_000 });
    let last = 0;
    for await (const item of call) {
      last = item.id;
      if (last === 300) break; // leaving the loop cancels the call
    }
    expect(last).toBe(300);
    const all = await echo.Count({ up_to: 2500 }).toArray();
    expect(all).toHaveLength(2500);
  });

  it('answers UNIMPLEMENTED for a service the app does not serve', async () => {
    const raw = app.stub(grpc.makeGenericClientConstructor({}, 'x') as unknown as typeof grpc.Client);
    const error = await new Promise<grpc.ServiceError>((resolve) =>
      raw.makeUnaryRequest(
        '/nope.Nope/Call',
        (b: Buffer) => b,
        (b: Buffer) => b,
        Buffer.alloc(0),
        (e) => resolve(e!),
      ),
    );
    expect(error.code).toBe(status.UNIMPLEMENTED);
  });
});

describe('in-process and socket calls give the same results', () => {
  let sample: RunningSample;
  let inProcess: GrpcTestingApp;
  const db = testDatabase();

  beforeAll(async () => {
    sample = await startSample();
    inProcess = await GrpcTestingApp.create({ imports: [SampleAppModule.register({ database: db.options })] }, { isolation: 'truncate' });
  });
  afterAll(async () => {
    await sample.close();
    await inProcess.close();
    await db.dispose();
  });

  type Outcome = { ok: unknown } | { code: number; details: string; violations?: unknown };
  const flows: Array<[string, string, object]> = [
    ['blog_proto.PostController', 'Create', { title: 't1', content: 'c1' }],
    ['blog_proto.PostController', 'Create', { title: '', content: 'c' }],
    ['blog_proto.PostController', 'Retrieve', { id: 1 }],
    ['blog_proto.PostController', 'Retrieve', { id: 99 }],
    ['blog_proto.PostController', 'Update', { id: 1, title: 't2', content: 'c2' }],
    ['blog_proto.PostController', 'List', {}],
    ['blog_proto.PostController', 'Destroy', { id: 1 }],
    ['account.UserController', 'Create', { username: 'tom', email: 'tom@x.io' }],
    ['account.UserController', 'Create', { username: 'tom' }],
    ['account.UserController', 'Create', { username: 'bad name', groups: [5] }],
    ['hrm.PersonController', 'Create', { name: 'amy', email: 'amy@demo.com' }],
    ['hrm.PersonController', 'PartialUpdate', { id: 1, name: { value: 'amelia' } }],
    ['hrm.PersonController', 'PartialUpdate', { id: 1, email: { value: 'nope' } }],
    ['snippets.SnippetController', 'Create', { title: 's', language: { null: 'NULL_VALUE' } }],
    ['snippets.SnippetController', 'Update', { id: 1, title: 's2' }],
    ['snippets.SnippetController', 'List', {}],
  ];

  function outcome(run: () => Promise<unknown>): Promise<Outcome> {
    return run().then(
      (ok) => ({ ok }),
      (error: grpc.ServiceError) => ({
        code: error.code,
        details: error.details,
        violations: error.metadata.get('grpc-status-details-bin').length ? badRequestOf(error).violations : undefined,
      }),
    );
  }

  it('for every sample flow', async () => {
    const registry = sample.app.get(GrpcFrameworkServer).registry;
    for (const [service, method, request] of flows) {
      // Over the socket with the same message shapes as the toolkit's clients.
      const Client = grpc.makeGenericClientConstructor(clientServiceDefinition(registry, service)!, service);
      const socketClient = new Client(sample.address, grpc.credentials.createInsecure()) as GrpcClient;
      const overSocket = await outcome(() =>
        method === 'List' ? collect(socketClient, method, request) : unary(socketClient, method, request),
      );
      const client = inProcess.client(service);
      const inProc = await outcome(() => (method === 'List' ? client[method](request).toArray() : client[method](request)));
      socketClient.close();
      expect({ service, method, outcome: inProc }).toEqual({ service, method, outcome: overSocket });
    }
  });
});
