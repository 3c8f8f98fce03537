import { MetadataStorage, MikroORM, Options } from '@mikro-orm/core';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { generateProto } from '../contract/entity-proto';
import { generateProtoFromSerializer, SerializerLike } from '../contract/serializer-proto';
import { useEntityMetadata } from '../serializers/entity-metadata-source';
import { loadExport } from './load-module';

export interface GenerateProtoArgs {
  /** `<module>:<Class>` of an entity, or (with `serializer`) unset. */
  entity?: string;
  /** `<module>:<Class>` of a serializer: the messages follow its fields. */
  serializer?: string;
  writeMessage?: boolean;
  requestIds?: boolean;
  fields?: string[];
  packageName?: string;
  serviceName?: string;
  file?: string;
  wrappers?: boolean;
  paged?: boolean;
  presence?: boolean;
  nullOneof?: boolean;
}

/** `grpc-framework generateproto`: writes the .proto of a model service for an entity. */
export async function generateProtoCommand(args: GenerateProtoArgs): Promise<string> {
  if (args.serializer) return generateFromSerializer({ ...args, serializer: args.serializer });
  if (!args.entity)
    throw new Error(
      'generateproto needs --entity <module>:<Class> (or --serializer <module>:<Class>), e.g. --entity src/blog/post.entity.ts:Post',
    );
  const entity = loadExport(args.entity, '--entity');
  if (typeof entity !== 'function') throw new Error(`--entity ${args.entity} is not a class.`);
  return withDiscoveredEntities(args.file, (metadata) => {
    const meta = metadata.find(entity.name);
    if (!meta) throw new Error(`${entity.name} is not a MikroORM entity (no @Entity() decorator found).`);
    return generateProto(meta, {
      fields: args.fields,
      packageName: args.packageName ?? packageFromModule(args.entity!),
      serviceName: args.serviceName,
      wrappers: args.wrappers,
      paged: args.paged,
      presence: args.presence,
      nullOneof: args.nullOneof,
    });
  });
}

/** `--serializer`: the messages follow a serializer's fields (nested, computed, write-only). */
async function generateFromSerializer(args: GenerateProtoArgs & { serializer: string }): Promise<string> {
  const Serializer = loadExport(args.serializer, '--serializer') as unknown;
  if (typeof Serializer !== 'function' || typeof (Serializer as { spec?: unknown }).spec !== 'function') {
    throw new Error(
      `--serializer ${args.serializer} is not a serializer class (made with ModelProtoSerializer or extending ProtoSerializer).`,
    );
  }
  return withDiscoveredEntities(args.file, (metadata) => {
    useEntityMetadata(metadata);
    return generateProtoFromSerializer(Serializer as unknown as SerializerLike, metadata, {
      packageName: args.packageName ?? packageFromModule(args.serializer),
      serviceName: args.serviceName,
      paged: args.paged,
      writeMessage: args.writeMessage,
      requestIds: args.requestIds,
      presence: args.presence,
      nullOneof: args.nullOneof,
    });
  });
}

/** Runs `generate` over the metadata of every decorated entity, writes `--file` when given, and returns the text. */
async function withDiscoveredEntities(file: string | undefined, generate: (metadata: MetadataStorage) => string): Promise<string> {
  const orm = await discover();
  try {
    const text = generate(orm.getMetadata());
    writeOut(file, text);
    return text;
  } finally {
    await orm.close();
  }
}

/** Writes `--file`, never over an existing one. */
function writeOut(file: string | undefined, text: string): void {
  if (!file) return;
  if (fs.existsSync(file)) throw new Error(`${file} already exists; remove it or choose another --file.`);
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(file, text);
}

/** The entity's folder name, e.g. `blog` for `src/blog/post.entity.ts`. */
function packageFromModule(reference: string): string {
  const file = path.resolve(reference.slice(0, reference.lastIndexOf(':')));
  return path
    .basename(path.dirname(file))
    .replace(/[^A-Za-z0-9_]/g, '_')
    .toLowerCase();
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
