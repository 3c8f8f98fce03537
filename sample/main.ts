import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { SampleAppModule } from './app.module';

async function main(): Promise<void> {
  const url = process.argv[2] ?? '127.0.0.1:50051';
  // createApplicationContext initialises the app, which starts the gRPC server.
  const app = await NestFactory.createApplicationContext(SampleAppModule.register({ url }), { abortOnError: false });
  // On SIGTERM or SIGINT: stop taking calls, let those in flight finish, close the database, exit 0.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      app.close().then(
        () => process.exit(0),
        (error: Error) => {
          console.error(error.message);
          process.exit(1);
        },
      );
    });
  }
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
