#!/usr/bin/env node
import 'reflect-metadata';
import { Command, InvalidArgumentError } from 'commander';
import { appModuleReference } from './app-module-reference';
import { checkCommand } from './check.command';
import { generateModuleCommand } from './generate-module.command';
import { generateProtoCommand } from './generate-proto.command';
import { runServerCommand } from './run-server.command';

const MODULE_SOURCES = `The application module comes from --module, else "module" in grpc-framework.json, else the
"grpc-framework": { "module" } field of package.json.`;

/** The command line: one subcommand per task, each answering --help with its own options. */
function program(argv: string[]): Command {
  const cli = new Command('grpc-framework')
    .usage('<command> [options]')
    .description('Serve MikroORM models over gRPC with NestJS: generate protos, run the server, check the configuration.')
    .showHelpAfterError('(run the command with --help for its options)')
    .showSuggestionAfterError()
    .addHelpText('after', `\n${MODULE_SOURCES}\n`);

  cli
    .command('generateproto')
    .description(
      'Writes the protos of the application (--module), or the .proto of one model service for an entity or a serializer (stdout unless --file).',
    )
    .option('--module <module:Export>', 'generate every registered service, one file per package, keeping field numbers stable')
    .option(
      '--out <dir>',
      "with --module: where a package without a file gets <package>.proto (default: the module's first proto's folder)",
    )
    .option('--types <dir>', 'with --module: also write the TypeScript types of every package to <dir>/<package>.ts')
    .option('--check', 'with --module: write nothing; print a diff and exit 1 when the files differ from what the application generates')
    .option(
      '--allow-breaking',
      'with --module: write changes that break deployed clients (a type change, a removed rpc) instead of refusing them',
    )
    .option('--entity <module:Class>', 'the entity, e.g. src/blog/post.entity.ts:Post (a .ts or .js file)')
    .option('--model <module:Class>', "the same as --entity (django-grpc-framework's name)")
    .option('--serializer <module:Class>', "the messages follow a serializer's fields instead: nested, computed and write-only fields")
    .option('--fields <a,b,c>', 'with --entity: the entity properties to include, in order')
    .option('--package <name>', "the proto package (default: the module's folder name)")
    .option('--service <Name>', 'the service name (default: <Model>Controller)')
    .option('--file <path.proto>', 'write the file (never over an existing one) instead of printing it')
    .option('--wrappers', 'with --entity: nullable scalars as google.protobuf.*Value wrappers instead of proto3 optional')
    .option('--paged', 'List requests get filter, order_by, page_size and page_token, and the service a unary ListPage')
    .option('--presence', 'fields a Create must send get proto3 presence (optional), so a missing one is "This field is required."')
    .option('--null-oneof', 'nullable scalars in the null pattern (NullableString: a oneof of the value and NullValue)')
    .option(
      '--write-message',
      'with --serializer: Create and Update receive a <Model>Write message; write-only fields stay out of the one sent',
    )
    .option('--request-ids', 'writes take an AIP-155 request_id, so a client can retry them safely (add GrpcRequestRecord to the entities)')
    .addHelpText(
      'after',
      `
--presence and --null-oneof apply to the fields a client writes; a key field beside a writable
nested object (author_id beside author) always gets presence.

With --module, an existing file keeps every field's and enum value's number and name; new fields
take the next free numbers and removed ones become reserved. A file whose first lines carry
"// grpc-framework: hand-written" is not written; --check checks it against the services.

Examples:
  grpc-framework generateproto --module src/app.module.ts:AppModule --out protos
  grpc-framework generateproto --module src/app.module.ts:AppModule --check
  grpc-framework generateproto --entity src/blog/post.entity.ts:Post --fields id,title,content
  grpc-framework generateproto --serializer src/bookstore/book.serializer.ts:BookSerializer --paged --file protos/bookstore.proto
`,
    )
    .action(async (options: GenerateOptions) => {
      if (options.module) {
        if (options.entity || options.model || options.serializer) {
          throw new Error(
            'generateproto takes --module or --entity/--serializer, not both: --module generates every service of the application.',
          );
        }
        const ok = await generateModuleCommand({
          module: options.module,
          out: options.out,
          check: options.check,
          allowBreaking: options.allowBreaking,
          types: options.types,
          presence: options.presence,
          nullOneof: options.nullOneof,
          writeMessage: options.writeMessage,
          requestIds: options.requestIds,
        });
        if (!ok) process.exitCode = 1;
        return;
      }
      if (options.check || options.allowBreaking || options.out || options.types) {
        throw new Error(
          '--check, --allow-breaking, --out and --types work with --module, e.g. generateproto --module src/app.module.ts:AppModule --check',
        );
      }
      const entity = options.entity ?? options.model;
      if (!entity && !options.serializer) {
        throw new Error(
          'generateproto needs --entity <module>:<Class> (or --serializer <module>:<Class>), e.g. --entity src/blog/post.entity.ts:Post',
        );
      }
      const text = await generateProtoCommand({
        entity,
        fields: options.fields
          ?.split(',')
          .map((f) => f.trim())
          .filter(Boolean),
        packageName: options.package,
        serviceName: options.service,
        file: options.file,
        wrappers: options.wrappers,
        paged: options.paged,
        presence: options.presence,
        nullOneof: options.nullOneof,
        serializer: options.serializer,
        writeMessage: options.writeMessage,
        requestIds: options.requestIds,
      });
      if (!options.file) process.stdout.write(text);
    });

  cli
    .command('runserver')
    .description('Serves the application module until SIGTERM or SIGINT.')
    .argument('[address]', 'where to listen; 0.0.0.0:50051 listens on every interface', '127.0.0.1:50051')
    .option('--module <module:Export>', 'the application module, e.g. src/app.module.ts:AppModule')
    .option('--dev', 'restart on source changes')
    .option('--workers <n>', 'run n processes on one port', positiveInteger, 1)
    .option('--max-workers <n>', 'the most concurrent calls per connection', positiveInteger)
    .option('--grace-period <ms>', 'how long in-flight calls get on SIGTERM or SIGINT (default 5000)', positiveInteger)
    .option('--web <address>', "also answer gRPC-Web, Connect and HTTP/JSON calls on this address (the module's web.url)")
    .option(
      '--tls-cert <file>',
      'serve TLS on both addresses with this PEM certificate (with --tls-key); reloaded when it changes or on SIGHUP',
    )
    .option('--tls-key <file>', "the certificate's PEM private key")
    .option('--tls-client-ca <file>', 'mutual TLS: refuse clients without a certificate this PEM CA signed')
    .addHelpText('after', `\n${MODULE_SOURCES}\n`)
    .action(async (address: string, options: RunServerOptions) => {
      if (!options.tlsCert !== !options.tlsKey || (options.tlsClientCa && !options.tlsCert)) {
        throw new Error(
          'TLS needs --tls-cert and --tls-key together (and --tls-client-ca only with them), e.g. --tls-cert server.pem --tls-key server-key.pem',
        );
      }
      await runServerCommand(
        {
          address,
          module: appModuleReference(options.module),
          dev: options.dev ?? false,
          workers: options.workers,
          maxWorkers: options.maxWorkers,
          gracePeriodMs: options.gracePeriod,
          web: options.web,
          metrics: options.metrics,
          tls: options.tlsCert ? { cert: options.tlsCert, key: options.tlsKey!, clientCa: options.tlsClientCa } : undefined,
        },
        argv,
      );
      keepRunning = true; // the server exits on its own
    });

  cli
    .command('check')
    .description('Runs the start-up checks without listening; exits 1 and lists the problems if any.')
    .option('--module <module:Export>', 'the application module, e.g. src/app.module.ts:AppModule')
    .addHelpText('after', `\n${MODULE_SOURCES}\n`)
    .action(async (options: { module?: string }) => {
      if (!(await checkCommand(appModuleReference(options.module)))) process.exitCode = 1;
    });

  return cli;
}

interface GenerateOptions {
  module?: string;
  out?: string;
  check?: boolean;
  allowBreaking?: boolean;
  types?: string;
  entity?: string;
  model?: string;
  serializer?: string;
  fields?: string;
  package?: string;
  service?: string;
  file?: string;
  wrappers?: boolean;
  paged?: boolean;
  presence?: boolean;
  nullOneof?: boolean;
  writeMessage?: boolean;
  requestIds?: boolean;
}

interface RunServerOptions {
  module?: string;
  dev?: boolean;
  workers: number;
  maxWorkers?: number;
  gracePeriod?: number;
  web?: string;
  metrics?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsClientCa?: string;
}

let keepRunning = false;

function positiveInteger(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new InvalidArgumentError(`It needs a positive whole number, got "${text}".`);
  return value;
}

const argv = process.argv.slice(2);
program(argv)
  .parseAsync(argv, { from: 'user' })
  .then(
    () => {
      if (!keepRunning) process.exit(process.exitCode ?? 0);
    },
    (error: Error) => {
      process.stderr.write(`grpc-framework: ${error.message}\n`);
      process.exit(1);
    },
  );
