import * as protobuf from 'protobufjs';
import { ImproperlyConfiguredError } from '../errors/improperly-configured.error';
import { EncodedFileDescriptor, encodeFileDescriptor, fileDescriptorsOf } from './file-descriptors';
import { HttpRule, httpRulesOf } from './http-rules';
import { DecodeOptions, MessageCodec, MessageCodecFactory } from './message-codec';
import { ProtoFileResolver, ProtoSource } from './proto-files';

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
  /** Its HTTP bindings (`google.api.http`), for HTTP/JSON transcoding. */
  http: HttpRule[];
  /** Its `idempotency_level` option, e.g. `NO_SIDE_EFFECTS`, when declared. */
  idempotency?: string;
}

export interface ServiceDefinition {
  /** Fully qualified name without the leading dot, e.g. `blog_proto.PostController`. */
  name: string;
  /** The .proto file that declares the service, when known. */
  file?: string;
  rpcs: RpcDefinition[];
}

/**
 * The .proto files of an application, loaded once at start-up with protobufjs. Serving,
 * reflection and the testing toolkit's clients all come from this one registry, so they find
 * files and imports by the same rule (see `ProtoFileResolver`).
 */
export class ProtoRegistry {
  private readonly codecs: MessageCodecFactory;
  private descriptors?: EncodedFileDescriptor[];

  private constructor(
    readonly root: protobuf.Root,
    private readonly files: ProtoFileResolver,
    options: DecodeOptions,
  ) {
    this.codecs = new MessageCodecFactory(options);
  }

  static load(sources: readonly (string | ProtoSource)[], includeDirs: readonly string[], options: DecodeOptions): ProtoRegistry {
    const root = new protobuf.Root();
    const files = new ProtoFileResolver(includeDirs);
    const given = sources.map((source) => (typeof source === 'string' ? { file: source } : source));
    const resolved = given.map((source) => files.resolveSource(source));
    root.resolvePath = (origin, target) => (origin ? files.resolveImport(origin, target) : target);
    try {
      root.loadSync(resolved, { keepCase: true });
      root.resolveAll();
    } catch (error) {
      throw new ImproperlyConfiguredError(
        `GrpcFrameworkModule could not load the proto files (${given.map((s) => s.file).join(', ')}): ${(error as Error).message}` +
          `${/[.!?]$/.test((error as Error).message) ? '' : '.'} Check \`protoPath\` and, for imports, \`loader.includeDirs\`.`,
      );
    }
    return new ProtoRegistry(root, files, options);
  }

  /**
   * Every loaded file as an encoded `google.protobuf.FileDescriptorProto`, named by its import
   * path, with its dependencies (the well-known files included), each after those it imports:
   * what server reflection serves.
   */
  fileDescriptors(): readonly EncodedFileDescriptor[] {
    this.descriptors ??= fileDescriptorsOf(this.root, (file) => this.files.nameOf(file)).map(encodeFileDescriptor);
    return this.descriptors;
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
        http: httpRulesOf(method),
        idempotency: method.options?.idempotency_level as string | undefined,
      };
    });
    return { name: fullName, file: found.filename ?? undefined, rpcs };
  }

  /** The codec of a message type, e.g. `blog_proto.Post`. */
  codec(typeName: string): MessageCodec {
    return this.codecs.codec(this.root.lookupType(typeName));
  }
}
