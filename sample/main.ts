import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { SampleAppModule } from './app.module';

async function main(): Promise<void> {
  const url = process.argv[2] ?? '127.0.0.1:50051';
  // createApplicationContext initialises the app, which starts the gRPC server.
  const starting = NestFactory.createApplicationContext(SampleAppModule.register({ url }), { abortOnError: false });
  // On SIGTERM or SIGINT: stop taking calls, let those in flight finish, close the database, exit 0.
  // Listened for from the start: the server may already answer while the last start-up hooks run.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      starting.then((app) => app.close()).then(
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
