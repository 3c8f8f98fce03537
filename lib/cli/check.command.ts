import type { INestApplicationContext } from '@nestjs/common';
import { withStartupHint } from '../errors/startup-hints';
import { GrpcFrameworkServer } from '../module/grpc-framework.server';
import { internalsOf } from '../transport/server-internals';
import { buildWithoutStarting } from './application-context';
import { loadExport } from './load-module';

/** `grpc-framework check`: builds the application without starting it, then runs the start-up checks. */
export async function checkCommand(moduleReference: string): Promise<boolean> {
  let app: INestApplicationContext | undefined;
  try {
    app = await buildWithoutStarting(loadExport(moduleReference, '--module'), 'check');
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
