import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { MikroORM, Options } from '@mikro-orm/core';
import { getProtoPath } from 'google-proto-files';
import * as path from 'node:path';
import type { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { GrpcFrameworkOptions, GrpcFrameworkServer } from 'nestjs-grpc-framework';
import { PROTO_DIR, SAMPLE_PROTOS, SampleAppModule } from '../../sample/app.module';
import { STAFF_EMAIL, STAFF_PASSWORD } from '../../sample/bookstore/staff-member';
import { testDatabase } from './test-database';

export interface RunningSample {
  app: INestApplicationContext;
  orm: MikroORM;
  address: string;
  /** A client of `service`; with `token`, every call carries `authorization: Bearer <token>`. */
  client<T = GrpcClient>(service: string, token?: string): T;
  /** A bookstore bearer token from the real `Login` rpc. @default the staff member's */
  login(email?: string, password?: string): Promise<string>;
  close(): Promise<void>;
}

/** A loosely typed grpc-js client: each rpc is a method taking (request, [metadata], [options], callback). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type GrpcClient = grpc.Client & Record<string, any>;

export const loaderOptions: protoLoader.Options = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };

let packageObject: grpc.GrpcObject | undefined;
export function clientPackage(): grpc.GrpcObject {
  // bookstore.proto imports google/api/annotations.proto, which google-proto-files holds.
  packageObject ??= grpc.loadPackageDefinition(
    protoLoader.loadSync(SAMPLE_PROTOS, { ...loaderOptions, includeDirs: [PROTO_DIR, path.dirname(getProtoPath())] }),
  );
  return packageObject;
}

export function makeClient<T = GrpcClient>(address: string, service: string, token?: string): T {
  const ctor = service
    .split('.')
    .reduce<unknown>((ns, part) => (ns as Record<string, unknown>)[part], clientPackage()) as typeof grpc.Client;
  return new ctor(address, grpc.credentials.createInsecure(), token ? { interceptors: [bearer(token)] } : {}) as T;
}

/** A client interceptor that sends `authorization: Bearer <token>` on every call. */
export function bearer(token: string): grpc.Interceptor {
  return (options, nextCall) =>
    new grpc.InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        metadata.set('authorization', `Bearer ${token}`);
        next(metadata, listener);
      },
    });
}

/** Starts the sample app on 127.0.0.1:0 with a database of its own (see `testDatabase`). */
export async function startSample(
  options: { database?: Options; handwrittenBlog?: boolean; grpc?: Partial<GrpcFrameworkOptions> } = {},
): Promise<RunningSample> {
  const database = testDatabase();
  const moduleRef = await Test.createTestingModule({
    imports: [
      SampleAppModule.register({
        url: '127.0.0.1:0',
        database: { ...database.options, autoLoadEntities: true, ...options.database } as Options,
        handwrittenBlog: options.handwrittenBlog,
        grpc: options.grpc,
      }),
    ],
  }).compile();
  if (!process.env.TEST_LOGS) moduleRef.useLogger(false);
  const app = await moduleRef.init();
  const server = app.get(GrpcFrameworkServer);
  const address = `127.0.0.1:${server.port}`;
  const clients: grpc.Client[] = [];
  return {
    app,
    orm: app.get(MikroORM),
    address,
    client<T>(service: string, token?: string): T {
      const client = makeClient<grpc.Client>(address, service, token);
      clients.push(client);
      return client as T;
    },
    async login(email = STAFF_EMAIL, password = STAFF_PASSWORD) {
      const auth = makeClient<GrpcClient>(address, 'bookstore.AuthController');
      clients.push(auth);
      return (await unary<{ token: string }>(auth, 'Login', { email, password })).token;
    },
    async close() {
      for (const client of clients) client.close();
      await app.close();
      await database.dispose();
    },
  };
}

/** Calls a unary rpc and resolves with the response. */
export function unary<T = Record<string, unknown>>(
  client: GrpcClient,
  method: string,
  request: object,
  metadata: grpc.Metadata = new grpc.Metadata(),
  options: grpc.CallOptions = {},
): Promise<T> {
  return new Promise((resolve, reject) => {
    client[method](request, metadata, options, (error: grpc.ServiceError | null, response: T) =>
      error ? reject(error) : resolve(response),
    );
  });
}

/** Calls a server-streaming rpc and collects every message. */
export function collect<T = Record<string, unknown>>(
  client: GrpcClient,
  method: string,
  request: object,
  options: grpc.CallOptions = {},
): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const items: T[] = [];
    const call: grpc.ClientReadableStream<T> = client[method](request, options);
    call.on('data', (item: T) => items.push(item));
    call.on('error', reject);
    call.on('end', () => resolve(items));
  });
}
