import {
  DEFAULT_CALL_TIMEOUT_MS,
  DEFAULT_IDLE_CONNECTION_TIMEOUT_MS,
  DEFAULT_MAX_RECEIVE_MESSAGE_LENGTH,
  DEFAULT_MAX_REQUEST_FIELD_BYTES,
  DEFAULT_MAX_SEND_MESSAGE_LENGTH,
  DEFAULT_MAX_SERVER_STREAMS,
  DEFAULT_MAX_SERVER_STREAMS_PER_CONNECTION,
  DEFAULT_SHUTDOWN_GRACE_MS,
  DEFAULT_STREAM_MEMORY_BYTES,
  DEFAULT_URL,
  DEFAULT_WEB_HEADERS_TIMEOUT_MS,
  DEFAULT_WEB_IDLE_TIMEOUT_MS,
  DEFAULT_WEB_MAX_CONNECTIONS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_WEB_REQUEST_TIMEOUT_MS,
  DEFAULT_REQUEST_ID_RETENTION_MS,
} from '../common/constants';
import { randomBytes } from 'node:crypto';
import { ImproperlyConfiguredError } from '../errors/improperly-configured.error';
import type { GrpcFrameworkOptions, ResolvedGrpcFrameworkOptions } from '../interfaces/grpc-framework-options.interface';

/**
 * The settings `grpc-framework runserver` gives the application it starts: its flags, and the
 * page token key it shares among its workers. They win over the module's options (the command
 * line is the last word on where a process listens); nothing else in the environment is read.
 */
export interface CommandLineSettings {
  url?: string;
  /** The web address (gRPC-Web and Connect); set, it turns the web listener on. */
  webUrl?: string;
  shutdownGracePeriodMs?: number;
  maxConcurrentStreams?: number;
  /** The page token key `runserver --workers N` makes once for all its workers (used unless the module gives one). */
  pageTokenSecret?: string;
  /** `--metrics`: the metrics address. */
  metricsUrl?: string;
  /** `--tls-cert`, `--tls-key` and `--tls-client-ca`: paths of PEM files. */
  tls?: { cert: string; key: string; clientCa?: string };
}

/**
 * The one environment variable the framework reads: runserver sets it (JSON) for the process
 * it serves in and for its cluster workers, which inherit it. A name no one sets by accident,
 * so a variable left in a shell or a container never changes a module's options unseen.
 */
export const COMMAND_LINE_ENV = 'GRPC_FRAMEWORK_RUNSERVER';

/** The runserver settings in `env`, or none; a value runserver did not write is refused, naming the variable. */
export function commandLineSettingsOf(env: Readonly<Record<string, string | undefined>>): CommandLineSettings {
  const text = env[COMMAND_LINE_ENV];
  if (!text) return {};
  let settings: unknown;
  try {
    settings = JSON.parse(text);
  } catch {
    settings = undefined;
  }
  if (typeof settings !== 'object' || settings === null || Array.isArray(settings)) {
    throw new ImproperlyConfiguredError(`${COMMAND_LINE_ENV} is set but is not the JSON object grpc-framework runserver writes; unset it.`);
  }
  return settings as CommandLineSettings;
}

/** The shortest page token key accepted, in bytes: HMAC-SHA256's own size. */
const MIN_SECRET_BYTES = 32;

function withCommandLine(options: GrpcFrameworkOptions, settings: CommandLineSettings): GrpcFrameworkOptions {
  const merged: GrpcFrameworkOptions = { ...options };
  if (settings.url) merged.url = settings.url;
  if (settings.webUrl) merged.web = { ...options.web, url: settings.webUrl };
  if (settings.metricsUrl) merged.metrics = { ...options.metrics, url: settings.metricsUrl };
  if (settings.tls) {
    merged.tls = settings.tls;
    delete merged.credentials; // the command line's TLS is the last word, as its address is
  }
  if (settings.shutdownGracePeriodMs !== undefined) merged.shutdownGracePeriodMs = settings.shutdownGracePeriodMs;
  if (settings.pageTokenSecret && options.pageTokenSecret === undefined) merged.pageTokenSecret = settings.pageTokenSecret;
  if (settings.maxConcurrentStreams !== undefined) {
    merged.channelOptions = { ...options.channelOptions, 'grpc.max_concurrent_streams': settings.maxConcurrentStreams };
  }
  return merged;
}

/**
 * Fills in every default once; the rest of the framework only sees resolved options. What a
 * value comes from, first to last: runserver's `commandLine` settings, the module's options,
 * the defaults.
 */
export function resolveOptions(given: GrpcFrameworkOptions, commandLine: CommandLineSettings = {}): ResolvedGrpcFrameworkOptions {
  const options = withCommandLine(given, commandLine);
  const protoPath = options?.protoPath === undefined ? [] : ([] as string[]).concat(options.protoPath);
  if (!protoPath.length) {
    throw new ImproperlyConfiguredError(
      'GrpcFrameworkModule.forRoot() needs `protoPath`: the .proto file(s) declaring your services, e.g. ' +
        "{ protoPath: ['protos/blog_proto/post.proto'] }.",
    );
  }
  if (options.tls && options.credentials) {
    throw new ImproperlyConfiguredError(
      'GrpcFrameworkModule.forRoot() got both `tls` and `credentials`: give `tls: { cert, key, clientCa }` (both addresses, reloaded on rotation), ' +
        'or grpc-js `credentials` for full control of the gRPC address, not both.',
    );
  }
  return {
    protoPath,
    url: options.url ?? DEFAULT_URL,
    tls: options.tls,
    requestLogs: options.requestLogs === true ? {} : options.requestLogs || undefined,
    metrics: options.metrics,
    tracing: options.tracing === true ? {} : options.tracing || undefined,
    requestIdRetentionMs: options.requestIdRetentionMs ?? DEFAULT_REQUEST_ID_RETENTION_MS,
    readYourWritesMs: options.readYourWritesMs ?? 0,
    credentials: options.credentials,
    interceptors: options.interceptors ?? [],
    serverInterceptors: options.serverInterceptors ?? [],
    maxReceiveMessageLength: options.maxReceiveMessageLength ?? DEFAULT_MAX_RECEIVE_MESSAGE_LENGTH,
    maxSendMessageLength: options.maxSendMessageLength ?? DEFAULT_MAX_SEND_MESSAGE_LENGTH,
    maxRequestFieldBytes: options.maxRequestFieldBytes ?? DEFAULT_MAX_REQUEST_FIELD_BYTES,
    allowNullCharacters: options.allowNullCharacters ?? false,
    channelOptions: options.channelOptions ?? {},
    idleConnectionTimeoutMs: options.idleConnectionTimeoutMs ?? DEFAULT_IDLE_CONNECTION_TIMEOUT_MS,
    connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    maxConnections: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
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
