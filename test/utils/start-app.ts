import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { MikroORM } from '@mikro-orm/core';
import { GrpcFrameworkServer } from 'nestjs-grpc-framework';
import { clientServiceDefinition } from '../../lib/client/promise-client';
import { GrpcClient, loaderOptions } from './sample-app';

/**
 * Boots a module (whose GrpcFrameworkModule listens on port 0) and makes clients for it: with
 * `protoPath`, plain proto-loader clients; without, clients that speak messages as handlers see
 * them (the testing toolkit's encoding), from the server's own registry.
 */
export async function startApp(module: unknown, protoPath?: string) {
  const moduleRef = await Test.createTestingModule({ imports: [module as never] }).compile();
  if (!process.env.TEST_LOGS) moduleRef.useLogger(false);
  const app: INestApplicationContext = await moduleRef.init();
  const address = `127.0.0.1:${app.get(GrpcFrameworkServer).port}`;
  const server = app.get(GrpcFrameworkServer);
  const pkg = protoPath ? grpc.loadPackageDefinition(protoLoader.loadSync(protoPath, loaderOptions)) : undefined;
  const constructorOf = (service: string): typeof grpc.Client =>
    pkg
      ? (service.split('.').reduce<unknown>((ns, part) => (ns as Record<string, unknown>)[part], pkg) as typeof grpc.Client)
      : grpc.makeGenericClientConstructor(clientServiceDefinition(server.registry, service)!, service);
  const clients: grpc.Client[] = [];
  return {
    app,
    address,
    client(service: string): GrpcClient {
      const client = new (constructorOf(service))(address, grpc.credentials.createInsecure()) as GrpcClient;
      clients.push(client);
      return client;
    },
    async close() {
      for (const client of clients) client.close();
      await app.close();
    },
  };
}

/**
 * Boots a module on a fresh schema (the ORM's tables made anew) and makes a client of
 * `service` from `protoPath`: how a test of one app starts.
 */
export async function startOnFreshSchema(module: unknown, protoPath: string, service: string) {
  const running = await startApp(module, protoPath);
  await running.app.get(MikroORM).getSchemaGenerator().refreshDatabase();
  return { ...running, server: running.app.get(GrpcFrameworkServer), serviceClient: running.client(service) };
}
