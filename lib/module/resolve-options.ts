import {
  DEFAULT_CALL_TIMEOUT_MS,
  DEFAULT_IDLE_CONNECTION_TIMEOUT_MS,
  DEFAULT_MAX_RECEIVE_MESSAGE_LENGTH,
  DEFAULT_MAX_SEND_MESSAGE_LENGTH,
  DEFAULT_MAX_SERVER_STREAMS,
  DEFAULT_MAX_SERVER_STREAMS_PER_CONNECTION,
  DEFAULT_SHUTDOWN_GRACE_MS,
  DEFAULT_STREAM_MEMORY_BYTES,
  DEFAULT_URL,
  DEFAULT_WEB_HEADERS_TIMEOUT_MS,
  DEFAULT_WEB_IDLE_TIMEOUT_MS,
  DEFAULT_WEB_MAX_CONNECTIONS,
  DEFAULT_WEB_REQUEST_TIMEOUT_MS,
} from '../constants';
import { randomBytes } from 'node:crypto';
import { ImproperlyConfiguredError } from '../errors/improperly-configured.error';
import type { GrpcFrameworkOptions, ResolvedGrpcFrameworkOptions } from '../interfaces/grpc-framework-options.interface';

/**
 * Settings `grpc-framework runserver` and `check` pass to the application they start; they win
 * over the module's options (the command line is the last word on where a process listens).
 */
export const ENV = {
  url: 'GRPC_FRAMEWORK_URL',
  /** The web address (gRPC-Web and Connect); set, it turns the web listener on. */
  webUrl: 'GRPC_FRAMEWORK_WEB_URL',
  shutdownGraceMs: 'GRPC_FRAMEWORK_SHUTDOWN_GRACE_MS',
  maxConcurrentStreams: 'GRPC_FRAMEWORK_MAX_CONCURRENT_STREAMS',
  /** The page token key `runserver --workers N` makes once for all its workers (unless the module gives one). */
  pageTokenSecret: 'GRPC_FRAMEWORK_PAGE_TOKEN_SECRET',
} as const;

/** The shortest page token key accepted, in bytes: HMAC-SHA256's own size. */
const MIN_SECRET_BYTES = 32;

function fromEnv(options: GrpcFrameworkOptions, env: Readonly<Record<string, string | undefined>>): GrpcFrameworkOptions {
  const merged: GrpcFrameworkOptions = { ...options };
  if (env[ENV.url]) merged.url = env[ENV.url];
  const webUrl = env[ENV.webUrl];
  if (webUrl) merged.web = { ...options.web, url: webUrl };
  if (env[ENV.shutdownGraceMs]) merged.shutdownGracePeriodMs = Number(env[ENV.shutdownGraceMs]);
  if (env[ENV.pageTokenSecret] && options.pageTokenSecret === undefined) merged.pageTokenSecret = env[ENV.pageTokenSecret];
  if (env[ENV.maxConcurrentStreams]) {
    merged.channelOptions = { ...options.channelOptions, 'grpc.max_concurrent_streams': Number(env[ENV.maxConcurrentStreams]) };
  }
  return merged;
}

/**
 * Fills in every default once; the rest of the framework only sees resolved options. `env` is
 * the process environment, through which `grpc-framework runserver` passes its flags (`ENV`).
 */
export function resolveOptions(given: GrpcFrameworkOptions, env: Readonly<Record<string, string | undefined>>): ResolvedGrpcFrameworkOptions {
  const options = fromEnv(given, env);
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
    maxReceiveMessageLength: options.maxReceiveMessageLength ?? DEFAULT_MAX_RECEIVE_MESSAGE_LENGTH,
    maxSendMessageLength: options.maxSendMessageLength ?? DEFAULT_MAX_SEND_MESSAGE_LENGTH,
    channelOptions: options.channelOptions ?? {},
    idleConnectionTimeoutMs: options.idleConnectionTimeoutMs ?? DEFAULT_IDLE_CONNECTION_TIMEOUT_MS,
    callTimeoutMs: options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS,
    maxServerStreams: options.maxServerStreams ?? DEFAULT_MAX_SERVER_STREAMS,
    maxServerStreamsPerConnection: options.maxServerStreamsPerConnection ?? DEFAULT_MAX_SERVER_STREAMS_PER_CONNECTION,
    streamMemoryBytes: options.streamMemoryBytes ?? DEFAULT_STREAM_MEMORY_BYTES,
    pageTokenSecret: pageTokenSecret(options.pageTokenSecret),
    loader: {
      includeDirs: options.loader?.includeDirs ?? [],
      longs: options.loader?.longs ?? String,
      enums: options.loader?.enums ?? String,
    },
    shutdownGracePeriodMs: options.shutdownGracePeriodMs ?? DEFAULT_SHUTDOWN_GRACE_MS,
    listen: options.listen ?? true,
    handlersHook: options.handlersHook,
    authenticators: options.authenticators ?? [],
    grpcMethods: options.grpcMethods ?? 'serve',
    ...(options.permissions ? { permissions: options.permissions } : {}),
    reflection: options.reflection ?? true,
    health: options.health ?? true,
    ...(options.web
      ? {
          web: {
            ...options.web,
            headersTimeoutMs: options.web.headersTimeoutMs ?? DEFAULT_WEB_HEADERS_TIMEOUT_MS,
            requestTimeoutMs: options.web.requestTimeoutMs ?? DEFAULT_WEB_REQUEST_TIMEOUT_MS,
            idleTimeoutMs: options.web.idleTimeoutMs ?? DEFAULT_WEB_IDLE_TIMEOUT_MS,
            maxConnections: options.web.maxConnections ?? DEFAULT_WEB_MAX_CONNECTIONS,
          },
        }
      : {}),
  };
}

function pageTokenSecret(given: string | Buffer | undefined): string | Buffer {
  if (given === undefined) return randomBytes(MIN_SECRET_BYTES);
  if (Buffer.byteLength(given) < MIN_SECRET_BYTES) {
    throw new ImproperlyConfiguredError(
      `pageTokenSecret is ${Buffer.byteLength(given)} bytes; give at least ${MIN_SECRET_BYTES} (e.g. \`openssl rand -base64 32\`).`,
    );
  }
  return given;
}
