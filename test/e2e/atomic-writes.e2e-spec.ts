import { status } from '@grpc/grpc-js';
import { EventSubscriber, MikroORM } from '@mikro-orm/core';
import { MikroOrmModule } from '@mikro-orm/nestjs';
import { Module, Type } from '@nestjs/common';
import {
  GrpcFrameworkModule,
  GrpcFrameworkOptions,
  GrpcModelService,
  ModelProtoSerializer,
  ModelService,
  CallContext,
  ProtoMessage,
  ProtoSerializer,
} from 'nestjs-grpc-framework';
import { EventEmitter, once } from 'node:events';
import { Group } from '../../sample/account/group.entity';
import { User } from '../../sample/account/user.entity';
import { UserProtoSerializer } from '../../sample/account/user.serializer';
import { SAMPLE_PROTOS } from '../../sample/app.module';
import { badRequestOf, failureOf } from '../utils/status-details';
import { unary } from '../utils/sample-app';
import { startApp } from '../utils/start-app';
import { TEST_DB, TestDatabase, testDatabase } from '../utils/test-database';

/** Each write saves, then a second step fails: the saved part must not stay. */
@GrpcModelService({ service: 'account.UserController', serializer: UserProtoSerializer })
class TwoStepUserService extends ModelService(User) {
  override async performCreate(serializer: ProtoSerializer<object>): Promise<unknown> {
    await serializer.save();
    return this.auditFails();
  }

  override async performUpdate(serializer: ProtoSerializer<object>): Promise<unknown> {
    await serializer.save();
    return this.auditFails();
  }

  override async performDestroy(instance: object): Promise<void> {
    this.em.remove(instance);
    await this.em.flush();
    await this.auditFails();
  }

  /** A second write the database refuses: a group named like an existing one. */
  private async auditFails(): Promise<never> {
    this.em.create(Group, { name: 'audit' });
    await this.em.flush();
    throw new Error('unreachable: the group name is taken');
  }
}

/** Serves `controller` for account.UserController on `database`, with fresh tables. */
async function startUserApp(controller: Type, database: TestDatabase, grpcOptions: Partial<GrpcFrameworkOptions> = {}) {
  @Module({
    imports: [
      MikroOrmModule.forRoot({ ...database.options, entities: [User, Group], registerRequestContext: false }),
      GrpcFrameworkModule.forRoot({ protoPath: SAMPLE_PROTOS.slice(0, 1), url: '127.0.0.1:0', ...grpcOptions }),
    ],
    controllers: [controller],
  })
  class UserAppModule {}
  const running = await startApp(UserAppModule, SAMPLE_PROTOS[0]);
  await running.app.get(MikroORM).getSchemaGenerator().refreshDatabase();
  return running;
}

describe('writes are all or nothing', () => {
  const database = testDatabase();
  let running: Awaited<ReturnType<typeof startApp>>;

  beforeAll(async () => {
    running = await startUserApp(TwoStepUserService, database);
    const em = running.app.get(MikroORM).em.fork();
    em.create(Group, { name: 'audit' });
    em.create(User, { username: 'kept', email: 'kept@example.com' });
    await em.flush();
  });
  afterAll(async () => {
    await running.close();
    await database.dispose();
  });

  const stored = () =>
    running.app
      .get(MikroORM)
      .em.fork()
      .find(User, {}, { orderBy: { id: 'asc' } });

  it('rolls back a Create whose overridden performCreate fails after saving', async () => {
    const users = running.client('account.UserController');
    const error = await failureOf(unary(users, 'Create', { username: 'ghost' }));
    expect(error.code).not.toBe(status.OK);
    expect((await stored()).map((u) => u.username)).toEqual(['kept']);
  });

  it('rolls back an Update whose overridden performUpdate fails after saving', async () => {
    const users = running.client('account.UserController');
    const [kept] = await stored();
    const error = await failureOf(unary(users, 'Update', { id: kept.id, username: 'renamed', email: 'kept@example.com' }));
    expect(error.code).not.toBe(status.OK);
    expect((await stored()).map((u) => u.username)).toEqual(['kept']);
  });

  it('rolls back a Destroy whose overridden performDestroy fails after deleting', async () => {
    const users = running.client('account.UserController');
    const [kept] = await stored();
    const error = await failureOf(unary(users, 'Destroy', { id: kept.id }));
    expect(error.code).not.toBe(status.OK);
    expect((await stored()).map((u) => u.username)).toEqual(['kept']);
  });
});

/** A user without groups, whose duplicates only the database's unique index catches. */
class PlainUserSerializer extends ModelProtoSerializer(User, { fields: ['id', 'username', 'email'] }) {
  protected override async checkAgainstDatabase(): Promise<never[]> {
    return [];
  }
}

@GrpcModelService({ service: 'account.UserController', serializer: PlainUserSerializer })
class PlainUserService extends ModelService(User) {}

describe('a write of one row', () => {
  const statements: string[] = [];
  const database = testDatabase({
    debug: ['query'],
    logger: (message: string) => statements.push(message.replace(/\x1b\[[\d;]*m/g, '').toLowerCase()),
  });
  let running: Awaited<ReturnType<typeof startApp>>;
  let orm: MikroORM;

  beforeAll(async () => {
    running = await startUserApp(PlainUserService, database);
    orm = running.app.get(MikroORM);
  });
  afterAll(async () => {
    await running.close();
    await database.dispose();
  });
  beforeEach(() => {
    statements.length = 0;
  });

  const written = () =>
    statements
      .filter((s) => !/^\S*\s*select\b/.test(s.replace(/^\[query\]\s*/, '')) && /\b(begin|commit|rollback|insert|update|delete)\b/.test(s))
      .map((s) => s.match(/\b(begin|commit|rollback|insert|update|delete)\b/)![1]);
  const usernames = async () => (await orm.em.fork().find(User, {}, { orderBy: { id: 'asc' } })).map((u) => u.username);

  it('is one statement, without a transaction around it, for a Create', async () => {
    const users = running.client('account.UserController');
    const created = await unary(users, 'Create', { username: 'solo', email: 'solo@example.com' });
    expect(written()).toEqual(['insert']);
    statements.length = 0;
    // An Update reads its row locked in the transaction it writes in (a racing delete makes it NOT_FOUND).
    await unary(users, 'Update', { id: created.id, username: 'solo2', email: 'solo@example.com' });
    expect(written()).toEqual(['begin', 'update', 'commit']);
    if (TEST_DB === 'postgres') expect(statements.find((s) => /select/.test(s))).toMatch(/ for update$|for update /);
    expect(await usernames()).toEqual(['solo2']);
  });

  it('still names the field when the unique index refuses it, storing nothing', async () => {
    const users = running.client('account.UserController');
    const error = await failureOf(unary(users, 'Create', { username: 'solo2' }));
    expect(error.code).toBe(status.ALREADY_EXISTS);
    expect(badRequestOf(error).violations).toEqual([
      { field: 'username', description: 'User with this username already exists.', reason: 'UNIQUE' },
    ]);
    expect(await usernames()).toEqual(['solo2']);
  });

  it('runs in a transaction again when a subscriber could add statements to the flush', async () => {
    const users = running.client('account.UserController');
    const subscriber: EventSubscriber = { onFlush: () => undefined };
    orm.em.getEventManager().registerSubscriber(subscriber);
    try {
      await unary(users, 'Create', { username: 'watched' });
      expect(written()).toEqual(['begin', 'insert', 'commit']);
    } finally {
      orm.em.getEventManager().getSubscribers().delete(subscriber);
    }
  });
});

/** Tells the slow Create below to go on (set by the test once the client has been answered). */
let slowStepDone: () => void = () => undefined;
/** The slow Create's call signal: the server's own deadline, which may pass a little after the client's. */
let slowCallSignal: AbortSignal | undefined;
const slowCreate = new EventEmitter();

/** Saves, then takes its time before the transaction commits (a slow second step, a stalled database). */
@GrpcModelService({ service: 'account.UserController', serializer: UserProtoSerializer })
class SlowUserService extends ModelService(User) {
  override async performCreate(serializer: ProtoSerializer<object>): Promise<unknown> {
    const saved = await serializer.save();
    slowCallSignal = this.context.signal;
    await new Promise<void>((resolve) => (slowStepDone = resolve));
    return saved;
  }

  override async Create(request: ProtoMessage, context: CallContext): Promise<ProtoMessage> {
    try {
      return await super.Create(request, context);
    } finally {
      slowCreate.emit('ended'); // committed or rolled back
    }
  }

  override async Retrieve(): Promise<never> {
    return new Promise<never>(() => undefined); // never answers, as a query to a stalled database
  }
}

describe('deadlines', () => {
  const database = testDatabase();
  let running: Awaited<ReturnType<typeof startApp>>;

  beforeAll(async () => {
    running = await startUserApp(SlowUserService, database, { callTimeoutMs: 300 });
  });
  afterAll(async () => {
    await running.close();
    await database.dispose();
  });

  it('roll back a write whose deadline passed before it could commit', async () => {
    const users = running.client('account.UserController');
    const error = await failureOf(unary(users, 'Create', { username: 'late' }, undefined, { deadline: Date.now() + 150 }));
    expect(error.code).toBe(status.DEADLINE_EXCEEDED);
    // The handler goes on once the server's deadline has passed too (the client's timer can fire
    // first, and until the server's passes a commit is in time), and must then not commit.
    const signal = slowCallSignal!;
    if (!signal.aborted) await once(signal, 'abort');
    const ended = once(slowCreate, 'ended');
    slowStepDone();
    await ended;
    expect(await running.app.get(MikroORM).em.fork().count(User, { username: 'late' })).toBe(0);
  });

  it('answer a call without a deadline at callTimeoutMs, however long the handler waits', async () => {
    const users = running.client('account.UserController');
    const started = Date.now();
    const error = await failureOf(unary(users, 'Retrieve', { id: 1 }));
    expect(error).toMatchObject({ code: status.DEADLINE_EXCEEDED, details: 'Deadline exceeded' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

/** Where the racing calls are: the test opens `gate` once the second call is waiting on the first. */
const race = new EventEmitter();
let gate: Promise<void> = Promise.resolve();

/** A Destroy that holds its transaction open (its row deleted, not yet committed) until the test opens the gate. */
@GrpcModelService({ service: 'account.UserController', serializer: PlainUserSerializer })
class HeldDestroyUserService extends ModelService(User) {
  override async performDestroy(instance: object): Promise<void> {
    this.em.remove(instance);
    await this.em.flush();
    race.emit('deleted');
    await gate;
  }
}

describe('a write racing a delete of its row', () => {
  const database = testDatabase();
  let running: Awaited<ReturnType<typeof startApp>>;
  let orm: MikroORM;

  beforeAll(async () => {
    running = await startUserApp(HeldDestroyUserService, database);
    orm = running.app.get(MikroORM);
  });
  afterAll(async () => {
    await running.close();
    await database.dispose();
  });

  /** Resolves once another statement waits for a row lock (PostgreSQL); SQLite serialises writers on its one connection. */
  async function secondCallWaits(): Promise<void> {
    if (TEST_DB !== 'postgres') return;
    const connection = orm.em.getConnection();
    for (let i = 0; i < 500; i++) {
      const [{ waiting }] = await connection.execute<{ waiting: string }[]>(
        "select count(*) as waiting from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()",
      );
      if (Number(waiting) > 0) return;
      await new Promise((resolve) => setImmediate(resolve));
    }
    throw new Error("the second call never waited for the first one's lock");
  }

  it.each([
    ['Update', (id: number) => ({ id, username: 'late', email: 'late@example.com' })],
    ['Destroy', (id: number) => ({ id })],
  ] as const)('is NOT_FOUND for a %s whose row another call deleted first, and writes nothing', async (method, request) => {
    const em = orm.em.fork();
    const user = em.create(User, { username: `doomed-${method}`, email: 'doomed@example.com' });
    await em.flush();
    let open!: () => void;
    gate = new Promise<void>((resolve) => (open = resolve));
    const users = running.client('account.UserController');
    const deleted = once(race, 'deleted');
    const first = unary(users, 'Destroy', { id: user.id });
    await deleted;
    const second = failureOf(unary(users, method, request(user.id)));
    await secondCallWaits();
    open();
    await expect(first).resolves.toEqual({});
    expect((await second).code).toBe(status.NOT_FOUND);
    expect(await orm.em.fork().count(User, { id: user.id })).toBe(0);
  });
});
