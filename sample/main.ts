import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { SampleAppModule } from './app.module';

/**
 * `[grpc-address] [--web web-address] [--source-maps]`: where gRPC, and the web page with
 * gRPC-Web and Connect, are served; `--source-maps` serves the page's source map too.
 */
function argumentsOf(args: string[]): { url: string; web: string; pageSourceMaps: boolean } {
  const at = args.indexOf('--web');
  const web = at >= 0 ? args.splice(at, 2)[1] : '127.0.0.1:8080';
  const maps = args.indexOf('--source-maps');
  if (maps >= 0) args.splice(maps, 1);
  return { url: args[0] ?? '127.0.0.1:50051', web, pageSourceMaps: maps >= 0 };
}

async function main(): Promise<void> {
  const options = argumentsOf(process.argv.slice(2));
  // createApplicationContext initialises the app, which starts the gRPC server.
  const starting = NestFactory.createApplicationContext(SampleAppModule.register(options), { abortOnError: false });
  // On SIGTERM or SIGINT: stop taking calls, let those in flight finish, close the database, exit 0.
  // Listened for from the start: the server may already answer while the last start-up hooks run.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      starting
        .then((app) => app.close())
        .then(
          () => process.exit(0),
          (error: Error) => {
            console.error(error.message);
            process.exit(1);
          },
        );
    });
  }
  await starting;
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
