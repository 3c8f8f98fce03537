import type { INestApplicationContext } from '@nestjs/common';
import { withStartupHint } from '../errors/startup-hints';
import { GrpcFrameworkServer } from '../module/grpc-framework.server';
import { internalsOf } from '../transport/server-internals';
import { loadExport } from './load-module';

/**
 * `grpc-framework check`: builds the application's providers and controllers without running
 * its start-up hooks (`onModuleInit`, `onApplicationBootstrap`), so nothing that changes the
 * database (schema set-up, seeding) runs and nothing listens; then runs the start-up checks.
 */
export async function checkCommand(moduleReference: string): Promise<boolean> {
  let app: INestApplicationContext | undefined;
  try {
    app = await buildWithoutStarting(loadExport(moduleReference, '--module'));
    const server = app.get(GrpcFrameworkServer, { strict: false });
    await server.prepare();
    const report = internalsOf(server).fastPathReport();
    if (report.length)
      process.stdout.write(`Fast paths (and why a path is not the fastest):\n${report.map((line) => `  ${line}`).join('\n')}\n`);
  } catch (error) {
    process.stderr.write(`${(withStartupHint(error) as Error).message}\n`);
    return false;
  } finally {
    await app?.close();
  }
  process.stdout.write('System check identified no issues.\n');
  return true;
}

/** The application's instances, made the way `@nestjs/testing` makes them: no lifecycle hooks run. */
async function buildWithoutStarting(appModule: unknown): Promise<INestApplicationContext> {
  let testing: typeof import('@nestjs/testing');
  try {
    testing = require(require.resolve('@nestjs/testing', { paths: [process.cwd(), __dirname] }));
  } catch {
    throw new Error(
      'grpc-framework check builds the application without starting it through @nestjs/testing; install it: npm i -D @nestjs/testing',
    );
  }
  const module = await testing.Test.createTestingModule({ imports: [appModule as never] }).compile();
  module.useLogger(['error', 'warn']);
  return module;
}
