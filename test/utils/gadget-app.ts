import * as path from 'node:path';
import { MikroOrmModule } from '@mikro-orm/nestjs';
import { Module, Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { GrpcFrameworkModule, ImproperlyConfiguredError } from 'nestjs-grpc-framework';
import { GrpcTestingApp } from 'nestjs-grpc-framework/testing';
import { Gadget, Maker, Tag } from '../fixtures/gadgets/gadget.entity';
import { startupErrorOf } from './startup-error';
import { testDatabase } from './test-database';

const PROTO_DIR = path.join(__dirname, '..', 'fixtures', 'gadgets');

/** Fixture protos of the gadget services, by file name (they import each other from their folder). */
export const gadgetProtos = (...files: string[]): string[] => files.map((file) => path.join(PROTO_DIR, file));

/** MikroORM over the gadget entities and a test database; with `queries`, every SQL statement is logged there. */
export const gadgetOrm = (db: ReturnType<typeof testDatabase>, queries?: string[]) =>
  MikroOrmModule.forRoot({
    ...db.options,
    entities: [Gadget, Maker, Tag],
    registerRequestContext: false,
    ...(queries ? { debug: ['query'], logger: (line: string) => queries.push(line) } : {}),
  });

/** Serves `controllers` over the gadget entities, in process; with `queries`, every SQL statement is logged there. */
export async function startGadgetApp(
  controllers: Type[],
  protoPath: string[],
  queries?: string[],
): Promise<{ app: GrpcTestingApp; close(): Promise<void> }> {
  const db = testDatabase();
  const app = await GrpcTestingApp.create(
    { imports: [gadgetOrm(db, queries), GrpcFrameworkModule.forRoot({ protoPath, loader: { includeDirs: [PROTO_DIR] } })], controllers },
    { schema: 'create', isolation: 'none' },
  ).catch(async (error: unknown) => {
    await db.dispose(); // a failed start must not leave the test database open (jest would never exit)
    throw error;
  });
  return {
    app,
    async close() {
      await app.close();
      await db.dispose();
    },
  };
}

/** The message of the ImproperlyConfiguredError that starting `controllers` over the gadget entities fails with. */
export async function gadgetStartupError(controllers: Type[], protoPath: string[]): Promise<string> {
  const db = testDatabase();
  @Module({
    imports: [gadgetOrm(db), GrpcFrameworkModule.forRoot({ protoPath, loader: { includeDirs: [PROTO_DIR] }, url: '127.0.0.1:0' })],
    controllers,
  })
  class AppModule {}
  const error = await startupErrorOf(await Test.createTestingModule({ imports: [AppModule] }).compile());
  await db.dispose();
  if (!(error instanceof ImproperlyConfiguredError))
    throw new Error(`expected the start to fail with ImproperlyConfiguredError, got ${String(error)}`);
  return error.message;
}
