#!/usr/bin/env node
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { appModuleReference } from './app-module-reference';
import { checkCommand } from './check.command';
import { generateProtoCommand } from './generate-proto.command';
import { runServerCommand } from './run-server.command';

const USAGE = `Usage: grpc-framework <command> [options]

Commands:
  generateproto --entity <module>:<Class> [--fields a,b,c] [--package name]
                [--service Name] [--file path.proto] [--wrappers] [--paged]
                [--presence] [--null-oneof]
  generateproto --serializer <module>:<Class> [--package name] [--service Name]
                [--file path.proto] [--paged] [--write-message] [--presence] [--null-oneof]
      Writes the .proto of a model service for a MikroORM entity (stdout unless --file).
      <module> is a .ts or .js file; --package defaults to the entity's folder name.
      --paged adds filter, order_by, page_size and page_token to the List request, and a
      unary ListPage rpc (PagedListModelMixin). --presence gives the fields a Create must
      send proto3 presence (optional), so a missing one is "This field is required." rather
      than 0 or ''; --null-oneof sends nullable scalars in the null pattern (NullableString:
      a oneof of the value and google.protobuf.NullValue), so clients can set them to null.
      --serializer writes the messages from a serializer's fields instead: nested serializers
      as messages, computed and write-only fields marked; --write-message gives Create and
      Update a <Model>Write message, and keeps write-only fields out of the one sent.
      --presence and --null-oneof apply to the fields a client writes; a key field beside a
      writable nested object (author_id beside author) always gets presence.

  runserver [address] [--module <module>:<Export>] [--dev] [--workers N]
            [--max-workers N] [--grace-period ms] [--web address]
      Serves the application module (default address 127.0.0.1:50051; 0.0.0.0:50051 listens
      on every interface). --dev restarts on source changes; --workers N runs N processes on
      one port; --max-workers caps concurrent calls per connection; --grace-period is how long
      in-flight calls get on SIGTERM/SIGINT (default 5000 ms); --web also answers gRPC-Web and
      Connect calls on that address (the module's web.url).

  check [--module <module>:<Export>]
      Runs the start-up checks without listening; exits 1 and lists the problems if any.

The application module comes from --module, else "module" in grpc-framework.json, else the
"grpc-framework": { "module" } field of package.json.
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return command ? 0 : 1;
  }
  if (command === 'generateproto') {
    const { values } = parseArgs({
      args: rest,
      options: {
        entity: { type: 'string' },
        model: { type: 'string' },
        fields: { type: 'string' },
        package: { type: 'string' },
        service: { type: 'string' },
        file: { type: 'string' },
        wrappers: { type: 'boolean' },
        paged: { type: 'boolean' },
        serializer: { type: 'string' },
        'write-message': { type: 'boolean' },
        presence: { type: 'boolean' },
        'null-oneof': { type: 'boolean' },
      },
    });
    const entity = values.entity ?? values.model;
    if (!entity && !values.serializer)
      throw new Error(
        'generateproto needs --entity <module>:<Class> (or --serializer <module>:<Class>), e.g. --entity src/blog/post.entity.ts:Post',
      );
    const text = await generateProtoCommand({
      entity,
      fields: values.fields
        ?.split(',')
        .map((f) => f.trim())
        .filter(Boolean),
      packageName: values.package,
      serviceName: values.service,
      file: values.file,
      wrappers: values.wrappers,
      paged: values.paged,
      presence: values.presence,
      nullOneof: values['null-oneof'],
      serializer: values.serializer,
      writeMessage: values['write-message'],
    });
    if (!values.file) process.stdout.write(text);
    return 0;
  }
  if (command === 'runserver') {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        module: { type: 'string' },
        dev: { type: 'boolean' },
        workers: { type: 'string' },
        'max-workers': { type: 'string' },
        'grace-period': { type: 'string' },
        web: { type: 'string' },
      },
    });
    await runServerCommand(
      {
        address: positionals[0] ?? '127.0.0.1:50051',
        module: appModuleReference(values.module),
        dev: values.dev ?? false,
        workers: positiveInteger(values.workers ?? '1', '--workers'),
        maxWorkers: values['max-workers'] === undefined ? undefined : positiveInteger(values['max-workers'], '--max-workers'),
        gracePeriodMs: values['grace-period'] === undefined ? undefined : positiveInteger(values['grace-period'], '--grace-period'),
        web: values.web,
      },
      argv,
    );
    return -1; // keep running; the command exits on its own
  }
  if (command === 'check') {
    const { values } = parseArgs({ args: rest, options: { module: { type: 'string' } } });
    return (await checkCommand(appModuleReference(values.module))) ? 0 : 1;
  }
  process.stderr.write(`Unknown command "${command}".\n\n${USAGE}`);
  return 1;
}

function positiveInteger(text: string, flag: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${flag} needs a positive whole number, got "${text}".`);
  return value;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (error: Error) => {
    process.stderr.write(`grpc-framework: ${error.message}\n`);
    process.exit(1);
  },
);
