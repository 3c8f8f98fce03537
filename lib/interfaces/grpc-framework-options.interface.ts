import type { Authenticator } from '../auth/authenticator';
import type { ServicePermissions } from '../auth/permissions';
import type { ChannelOptions, Server, ServerCredentials, ServerInterceptor } from '@grpc/grpc-js';
import type { ProtoRegistry } from '../proto/proto-registry';
import type { NestInterceptor, Type } from '@nestjs/common';
import type { WebConnectionLimits, WebCorsOptions, WebRequest, WebResponse, WebTlsOptions } from './grpc-web-options.interface';

/**
 * A second address answering gRPC-Web and the Connect protocol (HTTP/1.1 and HTTP/2) for
 * the same services and handlers: browsers and HTTP clients call them with no proxy.
 */
export interface GrpcWebOptions {
  /** Address of the web listener; port 0 picks a free port. */
  url: string;
  /** Which browser origins may call (none by default: only non-browser clients such as curl). */
  cors?: WebCorsOptions;
  /** Serve HTTPS (HTTP/2 by ALPN, HTTP/1.1 otherwise) with this key and certificate. @default plain HTTP */
  tls?: WebTlsOptions;
  /** Answers web requests that are not rpcs (a page and its scripts, say). @default 404 */
  fallback?: (request: WebRequest, response: WebResponse) => void;
  /** A request's headers, a new connection's first bytes and a TLS handshake must arrive within this; the connection is closed otherwise. @default 10000 */
  headersTimeoutMs?: number;
  /**
   * A whole request must arrive within this: headers and body on HTTP/1.1, the body of a unary or
   * server-streaming call (or HTTP route) on HTTP/2 (whose session goes on). It is answered 408
   * otherwise. Client-streaming and bidi calls are bounded by their deadline instead. @default 30000
   */
  requestTimeoutMs?: number;
  /** A connection or HTTP/2 session over which nothing is sent or received for this long is closed (HTTP/1.1 keep-alive between requests stays Node's 5 s). @default 60000 */
  idleTimeoutMs?: number;
  /** Connections open at once on the web address; more are closed as they are accepted. @default 1000 */
  maxConnections?: number;
}

/** The server's certificate, its key and, for mutual TLS, the CA client certificates must be signed by. */
export interface TlsOptions {
  /** The certificate (chain) as PEM: a file path or its contents. */
  cert: string | Buffer;
  /** Its private key as PEM: a file path or its contents. */
  key: string | Buffer;
  /** The CA that signs client certificates; given, every client must present one (mutual TLS). */
  clientCa?: string | Buffer;
  /** How often files given by path are looked at for a rotation (SIGHUP reloads at once). @default 60000 */
  reloadIntervalMs?: number;
}

/** Prometheus metrics on an HTTP address of their own (`metrics`). */
export interface MetricsOptions {
  /** Where `GET /metrics` answers, e.g. `127.0.0.1:9464` (port 0 picks a free port). */
  url: string;
  /** Also Node's process metrics (CPU, memory, event loop lag, GC). @default false */
  processMetrics?: boolean;
  /** Buckets of `grpc_server_handling_seconds`, in seconds. @default go-grpc-prometheus's (0.005 to 10) */
  buckets?: number[];
}

/** How calls are traced (`tracing`). */
export interface TracingOptions {
  /**
   * Where spans come from: an OpenTelemetry `TracerProvider`.
   * @default the global one, which the SDK's `NodeSDK.start()` or `provider.register()` sets
   */
  tracerProvider?: { getTracer(name: string, version?: string): unknown };
  /**
   * A span for each statement the framework runs on the driver itself (its prepared statements
   * for Retrieve, List and Create, which knex instrumentation never sees). @default true
   */
  databaseSpans?: boolean;
}

/** How calls are logged (`requestLogs`). */
export interface RequestLogOptions {
  /** The Nest log level of the lines. @default 'log' */
  level?: 'log' | 'error' | 'warn' | 'debug' | 'verbose';
  /** The id of an authenticated caller in a line. @default its `id`, `sub` or `name` */
  caller?: (user: unknown) => string | undefined;
}

/** How request messages are decoded for handlers. */
export interface GrpcLoaderOptions {
  /** Directories searched for the proto files and their imports. @default [] (the working directory and each file's own folder are always searched) */
  includeDirs?: string[];
  /** How int64 fields reach handlers: `String` keeps every digit. @default String */
  longs?: typeof String | typeof Number;
  /** How enum fields reach handlers: names (`String`) or numbers. @default String */
  enums?: typeof String | typeof Number;
}

/**
 * Options of `GrpcFrameworkModule.forRoot()`.
 *
 * @publicApi
 */
export interface GrpcFrameworkOptions {
  /** The .proto files declaring the services to serve. Field names are kept as written (snake_case). */
  protoPath: string | string[];
  /** Address to listen on; `0.0.0.0:50051` listens on every interface, port 0 picks a free port. @default '127.0.0.1:50051' */
  url?: string;
  /**
   * TLS for the gRPC address and the web address alike, from PEM files (or buffers): with
   * `clientCa`, mutual TLS (a client without a certificate that CA signed is refused at the
   * handshake, and `MtlsAuthenticator` reads the certificate on both addresses). Files are read
   * again when they change, and on SIGHUP: a rotated certificate is served with no restart.
   * `grpc-framework runserver --tls-cert F --tls-key F [--tls-client-ca F]` sets it. @default plain text
   */
  tls?: TlsOptions;
  /**
   * One structured line per call as it ends, through Nest's logger (a pino or winston logger the
   * application installs receives the object): `{ rpc, code, ms, peer, caller, requestId }`, on
   * both addresses. Never a message body or a credential; `requestId` is the call's
   * `x-request-id` metadata. @default false
   */
  requestLogs?: boolean | RequestLogOptions;
  /**
   * Prometheus metrics (prom-client, an optional peer dependency) on an HTTP address of their own,
   * named as go-grpc-prometheus names them (`grpc_server_handled_total{grpc_code}`, ...) with a
   * `protocol` label for web calls. `grpc-framework runserver --metrics 127.0.0.1:9464` sets it. @default off
   */
  metrics?: MetricsOptions;
  /**
   * OpenTelemetry spans (`@opentelemetry/api`, an optional peer dependency) for every call on
   * every address, by the RPC semantic conventions, continuing the caller's `traceparent`, with
   * a child span for each query. The application registers the SDK and exporter. @default off
   */
  tracing?: boolean | TracingOptions;
  /**
   * How long a write's response is kept for retries with the same `request_id` (AIP-155; see
   * `GrpcRequestRecord`): a retry after this is a new request. Expired records are deleted
   * hourly. @default 86400000 (24 hours)
   */
  requestIdRetentionMs?: number;
  /**
   * With MikroORM `replicas`: for this long after a write, a caller's reads go to the primary.
   * Every write answers with `x-written-at` trailing metadata (epoch milliseconds); a Retrieve,
   * List or ListPage that sends it back within the window is read on the primary (in a read
   * transaction), so the caller sees its write whatever the replicas' lag. @default 0 (off: reads
   * use the replicas)
   */
  readYourWritesMs?: number;
  /** grpc-js server credentials, for full control of the gRPC address's TLS (instead of `tls`). @default ServerCredentials.createInsecure() */
  credentials?: ServerCredentials;
  /** Nest interceptors run around every framework handler (classes are created by Nest's injector). @default [] */
  interceptors?: Array<Type<NestInterceptor> | NestInterceptor>;
  /** grpc-js server interceptors, run for every call before any handler (the seed's SERVER_INTERCEPTORS). @default [] */
  serverInterceptors?: ServerInterceptor[];
  /** Largest request accepted, in bytes; bigger ones get RESOURCE_EXHAUSTED. @default 4 MiB - 64 KiB (so the answer to any write accepted fits in the default `maxSendMessageLength`) */
  maxReceiveMessageLength?: number;
  /** Largest response sent, in bytes (what gRPC clients accept by default); a larger one is RESOURCE_EXHAUSTED, and a write whose answer would be larger is not stored. @default 4 MiB */
  maxSendMessageLength?: number;
  /**
   * Largest string (in UTF-8 bytes) or bytes field of a request message, on every rpc and
   * transport, hand-written handlers included: a larger one is INVALID_ARGUMENT naming the
   * field before any handler runs. A serializer's `maxLength` still applies within it. @default 1 MiB
   */
  maxRequestFieldBytes?: number;
  /**
   * Accept U+0000 in request strings. Refused by default (INVALID_ARGUMENT naming the field,
   * before any handler runs): PostgreSQL cannot store it, and C libraries end text there. @default false
   */
  allowNullCharacters?: boolean;
  /** Further grpc-js server options (concurrency limits, ...); they win over the framework's own. @default {} */
  channelOptions?: ChannelOptions;
  /**
   * A client connection with no call in flight for this long is closed with a GOAWAY (grpc-js's
   * `grpc.max_connection_idle_ms`); clients reconnect on their next call. The server also pings a
   * connection quiet for two minutes and closes it when the ping is not answered in 20 s
   * (`grpc.keepalive_time_ms`, `grpc.keepalive_timeout_ms` in `channelOptions` change that). @default 300000
   */
  idleConnectionTimeoutMs?: number;
  /** A new client connection must open HTTP/2 (its preface and settings, after any TLS handshake) within this; it is closed otherwise. @default 10000 */
  connectTimeoutMs?: number;
  /** Client connections open at once on the gRPC address; more are closed as they are accepted. @default 1000 */
  maxConnections?: number;
  /**
   * The deadline of a unary call whose client set none (the client's wins when sooner): the
   * caller then gets DEADLINE_EXCEEDED in bounded time even when the database stops answering,
   * and a write not committed by then is rolled back. Server streams end at the client's deadline only. @default 30000
   */
  callTimeoutMs?: number;
  /** Server-streaming calls (List) running at once on the server; more get RESOURCE_EXHAUSTED. @default 1000 */
  maxServerStreams?: number;
  /** Server-streaming calls running at once on one client connection; more get RESOURCE_EXHAUSTED. @default 100 */
  maxServerStreamsPerConnection?: number;
  /**
   * Bytes of rows that List streams together may hold while their clients read; a List waits
   * before reading more past it, so slow or stalled clients cannot grow the server's memory. @default 32 MiB
   */
  streamMemoryBytes?: number;
  /**
   * The key List page tokens are signed with (HMAC-SHA256), at least 32 bytes. Give one when
   * several processes serve the same services (replicas behind a load balancer) or tokens must
   * survive a restart: a token is only accepted by a process with the key that signed it.
   * `grpc-framework runserver --workers N` shares one key among its workers by itself.
   * @default a random key per process
   */
  pageTokenSecret?: string | Buffer;
  /** How protos are found and requests decoded. */
  loader?: GrpcLoaderOptions;
  /** Milliseconds in-flight calls get to finish when the app closes before they are cancelled. @default 5000 */
  shutdownGracePeriodMs?: number;
  /** Start listening when the application bootstraps; set false to call `GrpcFrameworkServer.listen()` yourself. @default true */
  listen?: boolean;
  /**
   * Called with the grpc-js server after the framework's services are added and before it
   * binds: add hand-made grpc-js services here (the seed's ROOT_HANDLERS_HOOK). Not needed
   * for `@GrpcModelService` classes, which are registered automatically. @default none
   */
  handlersHook?: (server: Server, registry: ProtoRegistry) => void;
  /** Authenticators of every service that names none (`@GrpcModelService({ authenticators })`). @default none: every call is anonymous */
  authenticators?: readonly Authenticator[];
  /** Permissions of every service that names none (`@GrpcModelService({ permissions })`). @default none: every call is allowed */
  permissions?: ServicePermissions;
  /**
   * `@GrpcMethod`, `@GrpcStreamMethod` and `@GrpcStreamCall` handlers (`@nestjs/microservices`) of the application's
   * controllers: `'serve'` them on this server beside the framework's services, or `'ignore'`
   * them (another transport serves them). @default 'serve'
   */
  grpcMethods?: 'serve' | 'ignore';
  /** Serve gRPC server reflection (v1 and v1alpha) describing the loaded protos. @default true */
  reflection?: boolean;
  /** Serve `grpc.health.v1.Health`: SERVING per service while running, NOT_SERVING during shutdown. @default true */
  health?: boolean;
  /** Also answer gRPC-Web and Connect calls on a second address. @default none */
  web?: GrpcWebOptions;
}

/**
 * A class that builds the options, for `GrpcFrameworkModule.forRootAsync({ useClass })`:
 *
 * ```ts
 * @Injectable()
 * class GrpcConfig implements GrpcFrameworkOptionsFactory {
 *   constructor(private readonly config: ConfigService) {}
 *   createGrpcFrameworkOptions(): GrpcFrameworkOptions {
 *     return { protoPath: ['protos/blog.proto'], url: this.config.get('GRPC_URL') };
 *   }
 * }
 * ```
 *
 * @publicApi
 */
export interface GrpcFrameworkOptionsFactory {
  createGrpcFrameworkOptions(): GrpcFrameworkOptions | Promise<GrpcFrameworkOptions>;
}

/** Options with every default filled in. */
export interface ResolvedGrpcFrameworkOptions {
  protoPath: string[];
  url: string;
  tls?: TlsOptions;
  /** Undefined: no request logs. */
  requestLogs?: RequestLogOptions;
  metrics?: MetricsOptions;
  tracing?: TracingOptions;
  requestIdRetentionMs: number;
  readYourWritesMs: number;
  credentials?: ServerCredentials;
  interceptors: Array<Type<NestInterceptor> | NestInterceptor>;
  serverInterceptors: ServerInterceptor[];
  maxReceiveMessageLength: number;
  maxSendMessageLength: number;
  maxRequestFieldBytes: number;
  allowNullCharacters: boolean;
  channelOptions: ChannelOptions;
  idleConnectionTimeoutMs: number;
  connectTimeoutMs: number;
  maxConnections: number;
  callTimeoutMs: number;
  maxServerStreams: number;
  maxServerStreamsPerConnection: number;
  streamMemoryBytes: number;
  pageTokenSecret: string | Buffer;
  loader: Required<GrpcLoaderOptions>;
  shutdownGracePeriodMs: number;
  listen: boolean;
  handlersHook?: (server: Server, registry: ProtoRegistry) => void;
  authenticators: readonly Authenticator[];
  permissions?: ServicePermissions;
  grpcMethods: 'serve' | 'ignore';
  reflection: boolean;
  health: boolean;
  web?: ResolvedGrpcWebOptions;
}

/** Web options with every default filled in. */
export type ResolvedGrpcWebOptions = GrpcWebOptions & WebConnectionLimits;
