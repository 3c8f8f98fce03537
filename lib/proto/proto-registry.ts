import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as protobuf from 'protobufjs';
import { ImproperlyConfiguredError } from '../errors/improperly-configured.error';
import { DecodeOptions, MessageCodec, MessageCodecFactory } from './message-codec';

/** One rpc of a loaded service, with its codecs. */
export interface RpcDefinition {
  /** The rpc name as written in the .proto, e.g. `List`. */
  name: string;
  /** The HTTP/2 path, e.g. `/blog_proto.PostController/List`. */
  path: string;
  requestStream: boolean;
  responseStream: boolean;
  request: MessageCodec;
  response: MessageCodec;
}

export interface ServiceDefinition {
  /** Fully qualified name without the leading dot, e.g. `blog_proto.PostController`. */
  name: string;
  /** The .proto file that declares the service, when known. */
  file?: string;
  rpcs: RpcDefinition[];
}

/**
 * The .proto files of an application, loaded once at start-up with protobufjs.
 * Imports are looked up next to the importing file, then in each include directory;
 * the well-known `google/protobuf/*.proto` types are built in.
 */
export class ProtoRegistry {
  private readonly codecs: MessageCodecFactory;

  private constructor(
    readonly root: protobuf.Root,
    options: DecodeOptions,
  ) {
    this.codecs = new MessageCodecFactory(options);
  }

  static load(files: readonly string[], includeDirs: readonly string[], options: DecodeOptions): ProtoRegistry {
    const root = new protobuf.Root();
    const resolvedFiles = files.map((file) => resolveProtoFile(file, includeDirs));
    root.resolvePath = (origin, target) => {
      if (path.isAbsolute(target)) return target;
      const besideOrigin = origin ? path.resolve(path.dirname(origin), target) : path.resolve(target);
      if (existsSync(besideOrigin)) return besideOrigin;
      for (const dir of includeDirs) {
        const candidate = path.resolve(dir, target);
        if (existsSync(candidate)) return candidate;
      }
      return besideOrigin;
    };
    try {
      root.loadSync(resolvedFiles, { keepCase: true });
      root.resolveAll();
    } catch (error) {
      throw new ImproperlyConfiguredError(
        `GrpcFrameworkModule could not load the proto files (${files.join(', ')}): ${(error as Error).message}. ` +
          'Check `protoPath` and, for imports, `loader.includeDirs`.',
      );
    }
    return new ProtoRegistry(root, options);
  }

  /** Every service declared in the loaded files, by fully qualified name. */
  serviceNames(): string[] {
    const names: string[] = [];
    const visit = (ns: protobuf.NamespaceBase): void => {
      for (const nested of ns.nestedArray) {
        if (nested instanceof protobuf.Service) names.push(nested.fullName.slice(1));
        if (nested instanceof protobuf.Namespace || nested instanceof protobuf.Type) visit(nested);
      }
    };
    visit(this.root);
    return names;
  }

  /** The named service, or `undefined` when no loaded file declares it. */
  service(name: string): ServiceDefinition | undefined {
    const found = this.root.lookup(name.startsWith('.') ? name : `.${name}`);
    if (!(found instanceof protobuf.Service)) return undefined;
    const fullName = found.fullName.slice(1);
    const rpcs = found.methodsArray.map((method): RpcDefinition => {
      method.resolve();
      return {
        name: method.name,
        path: `/${fullName}/${method.name}`,
        requestStream: !!method.requestStream,
        responseStream: !!method.responseStream,
        request: this.codecs.codec(method.resolvedRequestType!),
        response: this.codecs.codec(method.resolvedResponseType!),
      };
    });
    return { name: fullName, file: found.filename ?? undefined, rpcs };
  }

  /** The codec of a message type, e.g. `blog_proto.Post`. */
  codec(typeName: string): MessageCodec {
    return this.codecs.codec(this.root.lookupType(typeName));
  }
}

function resolveProtoFile(file: string, includeDirs: readonly string[]): string {
  if (path.isAbsolute(file) || existsSync(file)) return path.resolve(file);
  for (const dir of includeDirs) {
    const candidate = path.resolve(dir, file);
    if (existsSync(candidate)) return candidate;
  }
  throw new ImproperlyConfiguredError(
    `GrpcFrameworkModule: proto file "${file}" was not found (looked in ${[process.cwd(), ...includeDirs].join(', ')}). ` +
      'Give `protoPath` relative to the working directory, as an absolute path, or relative to one of `loader.includeDirs`.',
  );
}
