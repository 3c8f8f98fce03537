import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { EntityManager, MikroORM } from '@mikro-orm/core';
import { Module, Provider, Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { GrpcFrameworkModule } from 'nestjs-grpc-framework';
import { GrpcTestingApp } from 'nestjs-grpc-framework/testing';
import { GrpcFrameworkServer } from '../../lib/module/grpc-framework.server';
import { gadgetOrm, gadgetProtos } from './gadget-app';
import { testDatabase } from './test-database';

// Services of the gadget protos served over a loopback socket and over the testing
// toolkit's in-process channel, so a test can check both give the same answers.
const PROTOS = gadgetProtos('gadget-reads.proto', 'gadget-sources.proto', 'gadget-streams.proto', 'heroes.proto');

export interface Served {
  /** Calls over a socket, and over the in-process channel: each rpc answered both ways. */
  clients: Record<'socket' | 'inProcess', grpc.Client & Record<string, Function>>;
  /** Clients of another service of the same servers (`package.Service`). */
  clientsOf(service: string): Record<'socket' | 'inProcess', grpc.Client & Record<string, Function>>;
  close(): Promise<void>;
}

export interface ServeOptions {
  providers?: Provider[];
  /** The proto service the clients call. @default 'gadgets.NestedMakerController' */
  service?: string;
  /** Fills each of the two databases once their tables exist. */
  seed?: (em: EntityManager) => Promise<void>;
}

/** The controllers served twice: by a server on a loopback port, and in process by the testing toolkit. */
export async function serveTwice(
  controllers: Type[],
  { providers = [], service = 'gadgets.NestedMakerController', seed }: ServeOptions = {},
): Promise<Served> {
  const socketDb = testDatabase();
  @Module({
    imports: [gadgetOrm(socketDb), GrpcFrameworkModule.forRoot({ protoPath: PROTOS, url: '127.0.0.1:0' })],
    controllers,
    providers,
  })
  class SocketModule {}
  const moduleRef = await Test.createTestingModule({ imports: [SocketModule] }).compile();
  moduleRef.useLogger(false);
  const socketApp = await moduleRef.init().catch(async (error: unknown) => {
    // A failed start must not leave the database open (jest would never exit).
    await moduleRef.get(MikroORM).close();
    await socketDb.dispose();
    throw error;
  });
  await socketApp.get(MikroORM).getSchemaGenerator().refreshDatabase();
  await seed?.(socketApp.get(MikroORM).em.fork());
  const definition = grpc.loadPackageDefinition(
    protoLoader.loadSync(PROTOS, { keepCase: true, defaults: true, includeDirs: [gadgetProtos('')[0]] }),
  );
  const clientClass = (name: string) =>
    name.split('.').reduce<unknown>((ns, part) => (ns as Record<string, unknown>)[part], definition) as typeof grpc.Client;
  const address = `127.0.0.1:${socketApp.get(GrpcFrameworkServer).port}`;
  const socket = new (clientClass(service))(address, grpc.credentials.createInsecure()) as Served['clients']['socket'];
  const others: grpc.Client[] = [];

  const inProcessDb = testDatabase();
  const testing = await GrpcTestingApp.create(
    { imports: [gadgetOrm(inProcessDb), GrpcFrameworkModule.forRoot({ protoPath: PROTOS })], controllers, providers },
    { schema: 'create', isolation: 'none' },
  );
  await seed?.(testing.orm.em.fork());
  const inProcess = testing.stub(clientClass(service)) as Served['clients']['inProcess'];
  return {
    clients: { socket, inProcess },
    clientsOf(name: string) {
      const other = new (clientClass(name))(address, grpc.credentials.createInsecure()) as Served['clients']['socket'];
      others.push(other);
      return { socket: other, inProcess: testing.stub(clientClass(name)) as Served['clients']['inProcess'] };
    },
    async close() {
      socket.close();
      for (const other of others) other.close();
      await socketApp.close();
      await testing.close();
      await socketDb.dispose();
      await inProcessDb.dispose();
    },
  };
}

export const unaryOf = (client: grpc.Client & Record<string, Function>, method: string, request: object, metadata = new grpc.Metadata()) =>
  new Promise<Record<string, unknown>>((resolve, reject) =>
    client[method](request, metadata, (error: grpc.ServiceError | null, response: Record<string, unknown>) =>
      error ? reject(error) : resolve(response),
    ),
  );

export const streamOf = (client: grpc.Client & Record<string, Function>, metadata = new grpc.Metadata()) =>
  new Promise<{ messages: unknown[]; error?: grpc.ServiceError }>((resolve) => {
    const messages: unknown[] = [];
    const call = client.List({}, metadata) as grpc.ClientReadableStream<unknown>;
    call.on('data', (message) => messages.push(message));
    call.on('error', (error: grpc.ServiceError) => resolve({ messages, error }));
    call.on('end', () => resolve({ messages }));
  });
