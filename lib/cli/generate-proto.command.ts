import { MetadataStorage, MikroORM, Options } from '@mikro-orm/core';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { generateProto } from '../proto/proto-generator';
import { loadExport } from './load-module';

export interface GenerateProtoArgs {
  entity: string;
  fields?: string[];
  packageName?: string;
  serviceName?: string;
  file?: string;
  wrappers?: boolean;
  paged?: boolean;
}

/** `grpc-framework generateproto`: writes the .proto of a model service for an entity. */
export async function generateProtoCommand(args: GenerateProtoArgs): Promise<string> {
  const entity = loadExport(args.entity, '--entity');
  if (typeof entity !== 'function') throw new Error(`--entity ${args.entity} is not a class.`);
  const orm = await discover();
  try {
    const meta = orm.getMetadata().find(entity.name);
    if (!meta) throw new Error(`${entity.name} is not a MikroORM entity (no @Entity() decorator found).`);
    const text = generateProto(meta, {
      fields: args.fields,
      packageName: args.packageName ?? packageFromModule(args.entity),
      serviceName: args.serviceName,
      wrappers: args.wrappers,
      paged: args.paged,
    });
    if (args.file) {
      if (fs.existsSync(args.file)) throw new Error(`${args.file} already exists; remove it or choose another --file.`);
      fs.mkdirSync(path.dirname(path.resolve(args.file)), { recursive: true });
      fs.writeFileSync(args.file, text);
    }
    return text;
  } finally {
    await orm.close();
  }
}

/** The entity's folder name, e.g. `blog` for `src/blog/post.entity.ts`. */
function packageFromModule(reference: string): string {
  const file = path.resolve(reference.slice(0, reference.lastIndexOf(':')));
  return path.basename(path.dirname(file)).replace(/[^A-Za-z0-9_]/g, '_').toLowerCase();
}

/** Runs MikroORM's metadata discovery over every decorated entity, without a database connection. */
async function discover(): Promise<MikroORM> {
  const entities = Object.values(MetadataStorage.getMetadata())
    .map((meta) => meta.class)
    .filter((cls): cls is NonNullable<typeof cls> => typeof cls === 'function');
  return MikroORM.init({
    driver: await anyDriver(),
    dbName: ':memory:',
    entities,
    connect: false,
    allowGlobalContext: true,
    discovery: { warnWhenNoEntities: false },
  } as Options);
}

/** Discovery needs a driver for its platform's type names; any installed SQL driver will do. */
async function anyDriver(): Promise<NonNullable<Options['driver']>> {
  for (const [pkg, name] of [
    ['@mikro-orm/better-sqlite', 'BetterSqliteDriver'],
    ['@mikro-orm/postgresql', 'PostgreSqlDriver'],
    ['@mikro-orm/sqlite', 'SqliteDriver'],
    ['@mikro-orm/mysql', 'MySqlDriver'],
  ]) {
    try {
      const module = require(require.resolve(pkg, { paths: [process.cwd(), __dirname] })) as Record<string, unknown>;
      return module[name] as NonNullable<Options['driver']>;
    } catch {
      // try the next one
    }
  }
  throw new Error('generateproto needs a MikroORM SQL driver package (e.g. @mikro-orm/better-sqlite or @mikro-orm/postgresql).');
}
