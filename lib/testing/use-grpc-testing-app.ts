import type { EntityManager, MikroORM } from '@mikro-orm/core';
import type { ModuleMetadata } from '@nestjs/common';
import type * as grpc from '@grpc/grpc-js';
import { GrpcTestingApp, GrpcTestingOptions, TestClient } from './grpc-testing-app';
import type { InProcessChannel } from './in-process-channel';

type Hook = (fn: () => Promise<void>, timeout?: number) => void;
interface JestHooks {
  beforeAll: Hook;
  afterAll: Hook;
  beforeEach: Hook;
  afterEach: Hook;
}

/** What a test file gets from `useGrpcTestingApp`: usable inside tests and hooks. */
export interface GrpcTestingContext {
  readonly app: GrpcTestingApp;
  readonly channel: InProcessChannel;
  readonly orm: MikroORM;
  /** The test's EntityManager (inside its transaction with `'transaction'` isolation). */
  readonly em: EntityManager;
  /** A client of a service by its full name (see `GrpcTestingApp.client`); give the generated `<Service>Client` interface for types. */
  client<C = TestClient>(service: string): C;
  stub<T extends grpc.Client>(
    ClientClass: new (address: string, credentials: grpc.ChannelCredentials, options: grpc.ClientOptions) => T,
  ): T;
}

/**
 * Sets up a `GrpcTestingApp` for the current jest (or compatible) test file: created before
 * all tests, isolated around each test, closed after all.
 *
 * ```ts
 * const t = useGrpcTestingApp({ imports: [AppModule] });
 * it('creates a post', async () => {
 *   const posts = t.client('blog_proto.PostController');
 *   expect(await posts.Create({ title: 'title', content: 'content' })).toMatchObject({ title: 'title' });
 *   expect(await t.em.count(Post)).toBe(1);
 * });
 * ```
 *
 * @publicApi
 */
export function useGrpcTestingApp(metadata: ModuleMetadata, options: GrpcTestingOptions = {}): GrpcTestingContext {
  const hooks = globalThis as unknown as Partial<JestHooks>;
  if (typeof hooks.beforeAll !== 'function' || typeof hooks.afterEach !== 'function') {
    throw new Error(
      'useGrpcTestingApp must be called in a test file (it registers beforeAll/afterAll hooks); use GrpcTestingApp.create otherwise.',
    );
  }
  let app: GrpcTestingApp | undefined;
  const current = (): GrpcTestingApp => {
    if (!app) throw new Error('The testing app is created in beforeAll; use it inside tests or hooks.');
    return app;
  };
  hooks.beforeAll(async () => {
    app = await GrpcTestingApp.create(metadata, options);
  });
  hooks.beforeEach!(async () => current().startTest());
  hooks.afterEach(async () => current().endTest());
  hooks.afterAll!(async () => {
    await app?.close();
    app = undefined;
  });
  return {
    get app() {
      return current();
    },
    get channel() {
      return current().channel;
    },
    get orm() {
      return current().orm;
    },
    get em() {
      return current().em;
    },
    client: <C>(service: string) => current().client<C>(service),
    stub: (ClientClass) => current().stub(ClientClass),
  };
}
