import { DEFAULT_MAX_MESSAGE_LENGTH, DEFAULT_SHUTDOWN_GRACE_MS, DEFAULT_URL } from '../constants';
import { ImproperlyConfiguredError } from '../errors/improperly-configured.error';
import type { GrpcFrameworkOptions, ResolvedGrpcFrameworkOptions } from '../interfaces/grpc-framework-options.interface';

/** Fills in every default once; the rest of the framework only sees resolved options. */
export function resolveOptions(options: GrpcFrameworkOptions): ResolvedGrpcFrameworkOptions {
  const protoPath = options?.protoPath === undefined ? [] : ([] as string[]).concat(options.protoPath);
  if (!protoPath.length) {
    throw new ImproperlyConfiguredError(
      'GrpcFrameworkModule.forRoot() needs `protoPath`: the .proto file(s) declaring your services, e.g. ' +
        "{ protoPath: ['protos/blog_proto/post.proto'] }.",
    );
  }
  return {
    protoPath,
    url: options.url ?? DEFAULT_URL,
    credentials: options.credentials,
    interceptors: options.interceptors ?? [],
    serverInterceptors: options.serverInterceptors ?? [],
    maxReceiveMessageLength: options.maxReceiveMessageLength ?? DEFAULT_MAX_MESSAGE_LENGTH,
    maxSendMessageLength: options.maxSendMessageLength ?? DEFAULT_MAX_MESSAGE_LENGTH,
    channelOptions: options.channelOptions ?? {},
    loader: {
      includeDirs: options.loader?.includeDirs ?? [],
      longs: options.loader?.longs ?? String,
      enums: options.loader?.enums ?? String,
    },
    shutdownGracePeriodMs: options.shutdownGracePeriodMs ?? DEFAULT_SHUTDOWN_GRACE_MS,
    listen: options.listen ?? true,
    handlersHook: options.handlersHook,
    reflection: options.reflection ?? true,
    health: options.health ?? true,
  };
}
