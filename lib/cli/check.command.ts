import { ENV } from '../module/resolve-options';
import { GrpcFrameworkServer } from '../server/grpc-framework.server';
import { startApp } from './run-server.command';

/** `grpc-framework check`: starts the app without listening, runs the start-up checks, reports. */
export async function checkCommand(moduleReference: string): Promise<boolean> {
  process.env[ENV.listen] = '0';
  let app;
  try {
    app = await startApp(moduleReference);
    await app.get(GrpcFrameworkServer, { strict: false }).prepare();
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return false;
  } finally {
    await app?.close();
  }
  process.stdout.write('System check identified no issues.\n');
  return true;
}
