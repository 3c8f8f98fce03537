import type { INestApplicationContext } from '@nestjs/common';

/**
 * The application's instances, made the way `@nestjs/testing` makes them: no lifecycle hooks
 * run (`onModuleInit`, `onApplicationBootstrap`), so nothing that changes the database (schema
 * set-up, seeding) runs and nothing listens.
 */
export async function buildWithoutStarting(appModule: unknown, command: string): Promise<INestApplicationContext> {
  let testing: typeof import('@nestjs/testing');
  try {
    testing = require(require.resolve('@nestjs/testing', { paths: [process.cwd(), __dirname] }));
  } catch {
    throw new Error(
      `grpc-framework ${command} builds the application without starting it through @nestjs/testing; install it: npm i -D @nestjs/testing`,
    );
  }
  const module = await testing.Test.createTestingModule({ imports: [appModule as never] }).compile();
  module.useLogger(['error', 'warn']);
  return module;
}
