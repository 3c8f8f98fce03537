import type { INestApplicationContext } from '@nestjs/common';
import { createTwoFilesPatch } from 'diff';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as protobuf from 'protobufjs';
import { applicationContract, ContractOptions, ContractService } from '../contract/application-contract';
import { HandlerShape, typeScriptOfPackage } from '../contract/typescript-types';
import { actionMessageKind, actionsOf } from '../decorators/grpc-action.decorator';
import type { ProtoFileModel } from '../contract/proto-model';
import { isHandWritten, ProtoFileError, readProtoFile } from '../contract/proto-reader';
import { writeProtoFile } from '../contract/proto-writer';
import { mergeIntoExisting } from '../contract/stable-numbers';
import { withStartupHint } from '../errors/startup-hints';
import { useEntityMetadata } from '../serializers/entity-metadata-source';
import { GrpcFrameworkServer } from '../module/grpc-framework.server';
import { ProtoFileResolver } from '../proto/proto-files';
import { internalsOf } from '../transport/server-internals';
import { buildWithoutStarting } from './application-context';
import { loadExport } from './load-module';

export interface GenerateModuleArgs extends ContractOptions {
  /** `<module>:<Export>` of the application module. */
  module: string;
  /** Where a package without a file yet gets `<package>.proto`. @default the folder of the module's first proto file, else `protos` */
  out?: string;
  /** Compare instead of writing: print a unified diff and fail when the files differ. */
  check?: boolean;
  /** Write changes that break deployed clients (a type change, a removed rpc) instead of refusing them. */
  allowBreaking?: boolean;
  /** Also write the TypeScript types of every package (generated and hand-written) to `<types>/<package>.ts`. */
  types?: string;
}

/** One file as generation leaves it. */
interface PlannedFile {
  path: string;
  text: string;
  /** The text on disk, when the file exists. */
  before?: string;
}

/**
 * `grpc-framework generateproto --module`: writes one file per package with every registered
 * service, merged into the file on disk so that numbers stay (see `mergeIntoExisting`); files
 * marked hand-written are left alone and checked against the services instead. Nothing is
 * written unless every file could be generated; a change that breaks deployed clients is
 * refused without `allowBreaking`. With `check`, resolves false (and prints a diff) when the
 * files on disk are not what the application generates.
 */
export async function generateModuleCommand(args: GenerateModuleArgs, out: NodeJS.WritableStream = process.stdout): Promise<boolean> {
  let app: INestApplicationContext | undefined;
  try {
    app = await buildWithoutStarting(loadExport(args.module, '--module'), 'generateproto');
    const server = app.get(GrpcFrameworkServer, { strict: false });
    const planned = plan(server, args);
    const { handWritten } = planned;
    const files = args.types ? [...planned.files, ...typeFiles(planned, args.types)] : planned.files;
    if (!args.check) {
      writeAll(files, out);
      return true;
    }
    const drifted = files.filter((file) => file.before !== file.text);
    for (const file of drifted) out.write(createTwoFilesPatch(file.path, file.path, file.before ?? '', file.text, 'on disk', 'generated'));
    if (drifted.length) {
      out.write(
        `\n${drifted.length} proto file${drifted.length > 1 ? 's differ' : ' differs'} from what the application generates: ` +
          `run grpc-framework generateproto --module ${args.module} and commit the result.\n`,
      );
      return false;
    }
    // Hand-written files (and the rest) must still serve the services: the start-up checks say so.
    await server.prepare().catch((error: unknown) => {
      throw withStartupHint(error);
    });
    out.write(
      `The protos match the application: ${planned.files.length} generated${args.types ? `, types of ${files.length - planned.files.length} packages` : ''}${handWritten.length ? `, ${handWritten.length} hand-written checked against the services (${handWritten.join(', ')})` : ''}.\n`,
    );
    return true;
  } finally {
    await app?.close();
  }
}

/** Every generated file's new text, or an error naming what stops generation. */
/** What generation leaves: the generated files, and what the types are made from. */
interface Plan {
  files: PlannedFile[];
  /** Paths of the files marked hand-written. */
  handWritten: string[];
  /** Every proto file's text after generation (path, package, text), generated and not. */
  protos: { path: string; package: string; text: string }[];
  /** How each action's handler receives and answers, by `service/rpc`. */
  handlers: Map<string, HandlerShape>;
}

function plan(server: GrpcFrameworkServer, args: GenerateModuleArgs): Plan {
  const internals = internalsOf(server);
  const { protoPath, loader } = internals.options;
  const onDisk = protoFilesOf(protoPath, loader.includeDirs);
  const problems = [...onDisk.problems];
  const handWritten = onDisk.files.filter(isHandWritten);
  const handWrittenPackages = new Set(handWritten.map((file) => file.package));
  const registered = internals.registeredServices();
  const services = registered.filter((service) => !handWrittenPackages.has(packageOf(service.options.service)));
  const byPackage = new Map<string, ProtoFileModel>();
  for (const file of onDisk.files) {
    if (!file.services.length && !file.types.length) continue;
    const other = byPackage.get(file.package);
    if (!other) byPackage.set(file.package, file);
    else if (!handWrittenPackages.has(file.package)) {
      problems.push(
        `package ${file.package} is split over ${other.path} and ${file.path}; generation writes one file per package: ` +
          'move its declarations into one file, or mark the files hand-written.',
      );
    }
  }
  const existing = (pkg: string): ProtoFileModel | undefined => byPackage.get(pkg);
  const metadata = internals.entityMetadata();
  if (!metadata) throw new Error('generateproto --module needs MikroORM in the application module (MikroOrmModule.forRoot).');
  useEntityMetadata(metadata);
  const contract = applicationContract(services, metadata, existing, args);
  problems.push(...contract.problems);
  const breaking: string[] = [];
  const outDir = args.out ?? (onDisk.wanted[0] ? path.dirname(onDisk.wanted[0]) : 'protos');
  const files = contract.files.map((generated): PlannedFile => {
    const before = existing(generated.package);
    const target =
      before?.path ??
      onDisk.missing.find((file) => path.basename(file) === `${generated.package}.proto`) ??
      path.join(outDir, `${generated.package}.proto`);
    const merged = mergeIntoExisting({ ...generated, path: target }, before);
    breaking.push(...merged.breaking);
    return { path: target, text: writeProtoFile(merged.file), before: before && onDisk.sources.get(before.path) };
  });
  if (problems.length)
    throw new Error(
      `generateproto --module could not generate the protos (nothing was written):\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
  if (breaking.length && !args.allowBreaking) {
    throw new Error(
      `generateproto --module refused changes that break deployed clients (nothing was written):\n${breaking.map((b) => `  - ${b}`).join('\n')}\n` +
        'Keep the old fields and rpcs, or pass --allow-breaking if every client is updated with the server.',
    );
  }
  const generatedPaths = new Set(files.map((file) => file.path));
  const protos = [
    ...contract.files.map((generated, i) => ({ path: files[i].path, package: generated.package, text: files[i].text })),
    ...onDisk.files
      .filter((file) => !generatedPaths.has(file.path))
      .map((file) => ({ path: file.path, package: file.package, text: onDisk.sources.get(file.path)! })),
  ];
  return { files, handWritten: handWritten.map((file) => file.path), protos, handlers: handlerShapes(registered) };
}

/** The shapes of the handlers whose actions put serializers between them and the messages. */
function handlerShapes(services: readonly ContractService[]): Map<string, HandlerShape> {
  const shapes = new Map<string, HandlerShape>();
  for (const { instance, options } of services) {
    for (const action of actionsOf(instance.constructor).values()) {
      const request = actionMessageKind(action.request);
      const response = actionMessageKind(action.response);
      shapes.set(`${options.service}/${action.name}`, {
        validatedRequest: request.kind === 'serializer',
        serializedResponse: response.kind === 'serializer',
        mayReturnNothing: response.kind === 'message' && response.name === 'google.protobuf.Empty',
      });
    }
  }
  return shapes;
}

/** The JSON protobufjs keeps its well-known files in. */
interface WellKnownJson {
  nested?: { google?: { nested?: { protobuf?: { nested?: Record<string, protobuf.AnyNestedObject> } } } };
}

/** One `<package>.ts` per package, from every proto as generation leaves it. */
function typeFiles(planned: Plan, dir: string): PlannedFile[] {
  const root = new protobuf.Root();
  // The well-known types, from protobufjs's copies (several files declare some of them).
  const wellKnown = root.define('google.protobuf');
  for (const file of Object.values(protobuf.common as unknown as Record<string, WellKnownJson>)) {
    for (const [name, json] of Object.entries(file?.nested?.google?.nested?.protobuf?.nested ?? {})) {
      if (!wellKnown.get(name)) wellKnown.addJSON({ [name]: json });
    }
  }
  for (const proto of planned.protos) protobuf.parse(proto.text, root, { keepCase: true });
  root.resolveAll();
  const packages = [...new Set(planned.protos.map((proto) => proto.package))].sort();
  return packages.map((pkg) => {
    const target = path.join(dir, `${pkg || 'default'}.ts`);
    const sources = planned.protos.filter((proto) => proto.package === pkg).map((proto) => proto.path.split(path.sep).join('/'));
    const text = typeScriptOfPackage(root, pkg, sources.join(', '), {
      handlerOf: (service, rpc) => planned.handlers.get(`${service}/${rpc}`),
    });
    return { path: target, text, before: fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : undefined };
  });
}

/** The module's proto files that exist, read (their text by path in `sources`); the paths of those that do not (yet). */
function protoFilesOf(protoPath: readonly string[], includeDirs: readonly string[]) {
  const resolver = new ProtoFileResolver(includeDirs);
  const files: ProtoFileModel[] = [];
  const sources = new Map<string, string>();
  const missing: string[] = [];
  const wanted: string[] = [];
  const problems: string[] = [];
  for (const entry of protoPath) {
    let file: string;
    try {
      file = resolver.resolveSource({ file: entry });
    } catch {
      missing.push(entry);
      wanted.push(entry);
      continue;
    }
    const relative = path.relative(process.cwd(), file) || file;
    wanted.push(relative);
    const text = fs.readFileSync(file, 'utf8');
    sources.set(relative, text);
    try {
      files.push(readProtoFile(relative, text));
    } catch (error) {
      if (!(error instanceof ProtoFileError)) throw error;
      problems.push(error.message);
    }
  }
  return { files, sources, missing, wanted, problems };
}

function packageOf(service: string): string {
  const dot = service.lastIndexOf('.');
  return dot > 0 ? service.slice(0, dot) : '';
}

/** Writes every changed file: each to a temporary name first, then all renamed, so a failure leaves no half-written file. */
function writeAll(files: readonly PlannedFile[], out: NodeJS.WritableStream): void {
  const changed = files.filter((file) => file.before !== file.text);
  const temporary = changed.map((file) => {
    fs.mkdirSync(path.dirname(path.resolve(file.path)), { recursive: true });
    const name = `${file.path}.${process.pid}.tmp`;
    fs.writeFileSync(name, file.text);
    return name;
  });
  changed.forEach((file, i) => fs.renameSync(temporary[i], file.path));
  for (const file of files)
    out.write(`${file.path}: ${file.before === undefined ? 'written' : file.before === file.text ? 'up to date' : 'updated'}\n`);
}
