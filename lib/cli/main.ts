#!/usr/bin/env node
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { generateProtoCommand } from './generate-proto.command';

const USAGE = `Usage: grpc-framework <command> [options]

Commands:
  generateproto --entity <module>:<Class> [--fields a,b,c] [--package name]
                [--service Name] [--file path.proto] [--wrappers]
      Writes the .proto of a model service for a MikroORM entity (stdout unless --file).
      <module> is a .ts or .js file; --package defaults to the entity's folder name.
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
      },
    });
    const entity = values.entity ?? values.model;
    if (!entity) throw new Error('generateproto needs --entity <module>:<Class>, e.g. --entity src/blog/post.entity.ts:Post');
    const text = await generateProtoCommand({
      entity,
      fields: values.fields?.split(',').map((f) => f.trim()).filter(Boolean),
      packageName: values.package,
      serviceName: values.service,
      file: values.file,
      wrappers: values.wrappers,
    });
    if (!values.file) process.stdout.write(text);
    return 0;
  }
  process.stderr.write(`Unknown command "${command}".\n\n${USAGE}`);
  return 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`grpc-framework: ${error.message}\n`);
    process.exit(1);
  },
);
