import * as grpc from '@grpc/grpc-js';
import type { EntityManager } from '@mikro-orm/core';
import { MikroORM } from '@mikro-orm/core';
import type { ModuleMetadata } from '@nestjs/common';
import { Test, TestingModule, TestingModuleBuilder } from '@nestjs/testing';
import { withStartupHint } from '../errors/startup-hints';
import { GrpcFrameworkServer } from '../module/grpc-framework.server';
import { internalsOf } from '../transport/server-internals';
import { ClientRpc, clientServiceDefinition, PromiseClient, promiseMethods } from '../client/promise-client';
import { InProcessChannel } from './in-process-channel';

/**
 * How each test is kept apart from the others, as django-grpc-framework's test cases do:
 * - `'transaction'` (RPCTestCase): each test runs inside a transaction that is rolled back;
 *   the calls' own writes use savepoints inside it. The fast default. Calls of one test share
 *   the transaction, so run them one after another.
 * - `'truncate'` (RPCTransactionTestCase): calls commit for real; every table is emptied after
 *   each test. For code that commits or runs its own transactions, and for concurrent calls.
 * - `'none'` (RPCSimpleTestCase): no database work.
 */
export type DatabaseIsolation = 'transaction' | 'truncate' | 'none';

export interface GrpcTestingOptions {
  /** @default 'transaction' when the app has MikroORM, else 'none' */
  isolation?: DatabaseIsolation;
  /** Create the tables before the first test (`'create'` drops and recreates them, `'update'` adds what is missing). @default 'none' */
  schema?: 'none' | 'create' | 'update';
  /** Adjust the testing module before it compiles, e.g. `(b) => b.overrideProvider(X).useValue(y)`. */
  configure?: (builder: TestingModuleBuilder) => TestingModuleBuilder;
}

/** A method of a test client (see `ClientRpc`). */
export type TestRpc = ClientRpc;
/** A grpc-js client over the in-process channel whose unary methods return promises (untyped: see `client<C>()`). */
export type TestClient = PromiseClient;

/**
 * A Nest application whose gRPC services are called in process: the real handler pipeline
 * (guards, interceptors, serializers, error mapping, per-call EntityManager) with no socket.
 *
 * ```ts
 * const t = await GrpcTestingApp.create({ imports: [AppModule] });
 * const posts = t.client('blog_proto.PostController');
 * await posts.Create({ title: 't', content: 'c' });
 * ```
 *
 * @publicApi
 */
export class GrpcTestingApp {
  /** The grpc-js channel: pass it to any client as `{ channelOverride: t.channel }`. */
  readonly channel: InProcessChannel;
  private testEm?: EntityManager;
  private readonly clients: grpc.Client[] = [];

  private constructor(
    /** The compiled, initialised testing module. */
    readonly module: TestingModule,
    private readonly server: GrpcFrameworkServer,
    readonly isolation: DatabaseIsolation,
  ) {
    this.channel = new InProcessChannel(server);
  }

  /** Compiles and initialises a testing module around `metadata`, serving its gRPC services in process. */
  static async create(metadata: ModuleMetadata, options: GrpcTestingOptions = {}): Promise<GrpcTestingApp> {
    let builder = Test.createTestingModule(metadata);
    if (options.configure) builder = options.configure(builder);
    let module: TestingModule;
    try {
      module = await builder.compile();
      internalsOf(module.get(GrpcFrameworkServer, { strict: false })).serveInProcessOnly();
      await module.init();
    } catch (error) {
      throw withStartupHint(error);
    }
    const server = module.get(GrpcFrameworkServer, { strict: false });
    const orm = findOrm(module);
    const isolation = options.isolation ?? (orm ? 'transaction' : 'none');
    if (isolation !== 'none' && !orm) {
      throw new Error(`GrpcTestingApp: isolation '${isolation}' needs MikroORM; import MikroOrmModule.forRoot(...) or use 'none'.`);
    }
    const schema = options.schema ?? 'none';
    if (orm && schema === 'create') await orm.getSchemaGenerator().refreshDatabase();
    if (orm && schema === 'update') await orm.getSchemaGenerator().updateSchema();
    return new GrpcTestingApp(module, server, isolation);
  }

  /** The application's MikroORM instance. */
  get orm(): MikroORM {
    const orm = findOrm(this.module);
    if (!orm) throw new Error('GrpcTestingApp: the application has no MikroORM instance.');
    return orm;
  }

  /**
   * An EntityManager for the test itself: inside the test's transaction with `'transaction'`
   * isolation (so it sees what calls wrote), a fresh fork otherwise.
   */
  get em(): EntityManager {
    return this.testEm ?? this.orm.em.fork();
  }

  /**
   * A client of a service by its full name: unary methods return promises, client-streaming
   * ones take the messages to send (an array or an iterable) and return a promise of the
   * response; server-streaming and bidi methods are grpc-js's calls. Give the generated
   * `<Service>Client` interface for types: `t.client<BookControllerClient>('bookstore.BookController')`.
   */
  client<C = TestClient>(service: string): C;
  client(service: string): TestClient;
  client(service: string): unknown {
    const definition = this.serviceDefinition(service);
    const Client = grpc.makeGenericClientConstructor(definition, service);
    const client = new Client(this.channel.getTarget(), grpc.credentials.createInsecure(), { channelOverride: this.channel });
    this.clients.push(client);
    return promiseMethods(client, definition);
  }

  /** A client made from your own constructor (e.g. generated code) over the in-process channel. */
  stub<T extends grpc.Client>(
    ClientClass: new (address: string, credentials: grpc.ChannelCredentials, options: grpc.ClientOptions) => T,
  ): T {
    const client = new ClientClass(this.channel.getTarget(), grpc.credentials.createInsecure(), { channelOverride: this.channel });
    this.clients.push(client);
    return client;
  }

  /** Starts a test's isolation: opens its transaction with `'transaction'`. */
  async startTest(): Promise<void> {
    if (this.isolation !== 'transaction') return;
    const orm = this.orm;
    const em = orm.em.fork();
    await em.begin();
    this.testEm = em;
    internalsOf(this.server).useEntityManagerFactory(() => {
      const fork = orm.em.fork();
      fork.setTransactionContext(em.getTransactionContext()!);
      return fork;
    });
  }

  /** Ends a test's isolation: rolls its transaction back, or empties every table. */
  async endTest(): Promise<void> {
    if (this.isolation === 'transaction' && this.testEm) {
      const em = this.testEm;
      this.testEm = undefined;
      internalsOf(this.server).useEntityManagerFactory(undefined);
      await em.rollback();
    } else if (this.isolation === 'truncate') {
      await this.orm.getSchemaGenerator().clearDatabase();
    }
  }

  /** Closes the clients and the application. */
  async close(): Promise<void> {
    for (const client of this.clients) client.close();
    this.channel.close();
    await this.module.close();
  }

  private serviceDefinition(service: string): grpc.ServiceDefinition {
    const definition = clientServiceDefinition(this.server.registry, service);
    if (!definition) {
      throw new Error(`GrpcTestingApp: no service "${service}" in ${internalsOf(this.server).options.protoPath.join(', ')}.`);
    }
    return definition;
  }
}

function findOrm(module: TestingModule): MikroORM | undefined {
  try {
    return module.get(MikroORM, { strict: false });
  } catch {
    return undefined;
  }
}
