import { Server, ServerCredentials, UntypedServiceImplementation, ServiceDefinition as GrpcServiceDefinition } from '@grpc/grpc-js';
import { EntityManager, MikroORM } from '@mikro-orm/core';
import { BeforeApplicationShutdown, Inject, Injectable, Logger, NestInterceptor, OnApplicationBootstrap } from '@nestjs/common';
import type { IncomingHttpHeaders } from 'node:http2';
import { DiscoveryService, ExternalContextCreator, ModuleRef } from '@nestjs/core';
import { ImproperlyConfiguredError } from '../errors/improperly-configured.error';
import { withStartupHint } from '../errors/startup-hints';
import type {
  GrpcFrameworkOptions,
  ResolvedGrpcFrameworkOptions,
  ResolvedGrpcWebOptions,
} from '../interfaces/grpc-framework-options.interface';
import { DEFAULT_KEEPALIVE_TIME_MS, DEFAULT_KEEPALIVE_TIMEOUT_MS } from '../common/constants';
import { GRPC_FRAMEWORK_OPTIONS } from './grpc-framework.module-definition';
import { commandLineSettingsOf, resolveOptions } from './resolve-options';
import { ProtoRegistry } from '../proto/proto-registry';
import { useEntityMetadata } from '../serializers/entity-metadata-source';
import { grpcJsHandlerOf, HandlerEnvironment, handlerOf } from '../transport/call-handlers';
import type { RpcHandler } from '../call/call-port';
import { frameworkServicesRegistry, underFrameworkDecoding } from '../transport/framework-services';
import { DeadlineWatch } from '../transport/deadline-watch';
import { keepDuplicateCredentials } from '../transport/duplicate-credentials';
import { ServerTls } from '../transport/server-tls';
import { RequestLog } from '../transport/request-log';
import { ServerMetrics } from '../transport/server-metrics';
import { ServerTracing } from '../transport/server-tracing';
import { requestIdProblems } from '../checks/request-id-check';
import { RequestRecords } from '../idempotency/request-records';
import { GrpcRequestRecord } from '../idempotency/request-record.entity';
import { driverPoolOf, PoolConnections } from '../orm/mikro-orm-internals';
import { limitGrpcConnections } from '../transport/grpc-connection-limits';
import { http2ServersOf } from '../transport/grpc-js-internals';
import { FailureLog } from '../transport/failure-log';
import { StreamCounts } from '../transport/response-stream';
import { PageTokens } from '../call/page-token';
import { StreamMemory } from '../call/stream-memory';
import { addReflection, ServingHealth } from '../transport/reflection-and-health';
import { planOf } from '../planning/service-plans';
import { describePlan } from '../plan/describe-plan';
import { GenericServiceBase } from '../services/generic-service';
import { checkModelService } from '../checks/model-service-check';
import { bindService, DiscoveredController, servicesAmong, ServiceToBind } from '../nest/service-binding';
import type { BoundRpc } from '../transport/bound-rpc';
import { registerInternals } from '../transport/server-internals';
import { undecoratedImplementations } from '../nest/undecorated-controllers';
import { bindGrpcMethods, grpcMethodHandlersAmong } from '../nest/grpc-method-binding';
import { WebListener } from '../web/web-listener';
import { webRequestHandler } from '../web/web-transport';

const identity = (value: Buffer): Buffer => value;

/**
 * The gRPC server of a Nest application: loads the protos, binds every `@GrpcModelService`
 * controller, listens when the application bootstraps and shuts down gracefully with it.
 *
 * @publicApi
 */
@Injectable()
export class GrpcFrameworkServer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('GrpcFramework');
  private readonly options: ResolvedGrpcFrameworkOptions;
  private server?: Server;
  private built?: Promise<Server>;
  private boundPort?: number;
  private web?: WebListener;
  /** The `tls` option's certificates, served to both addresses and reloaded on rotation. */
  private tls?: ServerTls;
  private boundWebPort?: number;
  private boundMetricsPort?: number;
  /** Deletes expired request ids (`requestIdRetentionMs`). */
  private recordCleanup?: NodeJS.Timeout;
  private registryCache?: ProtoRegistry;
  private inProcessOnly = false;
  /** Handlers by method path, for in-process calls (see `nestjs-grpc-framework/testing`). */
  private readonly handlers = new Map<string, RpcHandler>();
  private readonly env: HandlerEnvironment;
  private defaultForkEntityManager?: () => EntityManager;
  private health?: ServingHealth;
  /** Per model service, the path each action takes. */
  private readonly report: string[] = [];

  constructor(
    @Inject(GRPC_FRAMEWORK_OPTIONS) options: GrpcFrameworkOptions,
    private readonly discovery: DiscoveryService,
    private readonly contextCreator: ExternalContextCreator,
    private readonly moduleRef: ModuleRef,
  ) {
    this.options = resolveOptions(options, commandLineSettingsOf(process.env));
    this.env = {
      streams: new StreamCounts(this.options.maxServerStreams, this.options.maxServerStreamsPerConnection),
      memory: new StreamMemory(this.options.streamMemoryBytes),
      pageTokens: new PageTokens(this.options.pageTokenSecret),
      maxResponseBytes: this.options.maxSendMessageLength,
      callTimeoutMs: this.options.callTimeoutMs,
      deadlines: new DeadlineWatch(),
      failures: new FailureLog(this.logger),
      statusMapping: {},
      requestLog: this.options.requestLogs ? new RequestLog(this.options.requestLogs) : undefined,
      requestRecords: new RequestRecords(this.options.requestIdRetentionMs),
    };
    const memory = this.env.memory;
    if (this.options.metrics) this.env.metrics = new ServerMetrics(this.options.metrics, () => memory.inUse);
    if (this.options.tracing) this.env.tracing = new ServerTracing(this.options.tracing);
    registerInternals(this, {
      options: this.options,
      serveInProcessOnly: () => {
        this.inProcessOnly = true;
      },
      handlerFor: (path) => this.handlers.get(path),
      fastPathReport: () => [...this.report],
      registeredServices: () => servicesAmong(this.discoveredControllers()),
      entityMetadata: () => this.findOrm()?.getMetadata(),
      useEntityManagerFactory: (factory) => {
        this.env.forkEntityManager = factory ?? this.defaultForkEntityManager;
        this.env.readEntityManager = factory ? undefined : this.findOrm()?.em;
      },
    });
  }

  /** The loaded protos. */
  get registry(): ProtoRegistry {
    if (!this.registryCache) {
      const requestFields = { maxFieldBytes: this.options.maxRequestFieldBytes, refuseNullCharacters: !this.options.allowNullCharacters };
      this.registryCache = ProtoRegistry.load(this.options.protoPath, this.options.loader.includeDirs, {
        ...this.options.loader,
        requestFields,
      });
    }
    return this.registryCache;
  }

  /** The port the server listens on (useful with port 0), once listening. */
  get port(): number {
    if (this.boundPort === undefined) throw new Error('GrpcFrameworkServer is not listening yet.');
    return this.boundPort;
  }

  /** `host:port` the server listens on, once listening. */
  get address(): string {
    const url = this.options.url;
    return withPort(url, this.port);
  }

  /** `host:port` of the gRPC-Web and Connect listener (the `web` option) once it listens; otherwise undefined. */
  get webAddress(): string | undefined {
    const url = this.options.web?.url;
    if (!url || this.boundWebPort === undefined) return undefined;
    return withPort(url, this.boundWebPort);
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.inProcessOnly) await this.prepare();
    else if (this.options.listen) await this.listen();
  }

  /** Discovers and checks the services and builds their handlers, once (`listen()` does it first). */
  prepare(): Promise<Server> {
    this.built ??= this.build();
    return this.built;
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.close();
  }

  /** Binds the services and starts listening; resolves with the bound port. */
  async listen(): Promise<number> {
    if (this.server) return this.port;
    const server = await this.prepare();
    if (this.options.tls) this.tls = new ServerTls(this.options.tls, (message) => this.logger.warn(message));
    const credentials = this.tls?.grpcCredentials() ?? this.options.credentials ?? ServerCredentials.createInsecure();
    this.boundPort = await new Promise<number>((resolve, reject) => {
      server.bindAsync(this.options.url, credentials, (error, port) => {
        if (error) {
          reject(withStartupHint(new Error(`GrpcFrameworkModule could not listen on ${this.options.url}: ${error.message}`)));
        } else resolve(port);
      });
    });
    // Runs before grpc-js's own 'stream' listener, which turns the headers into the call's
    // metadata; between bindAsync's callback and here only microtasks run, so no call comes first.
    for (const http2Server of http2ServersOf(server)) {
      limitGrpcConnections(http2Server, this.options);
      http2Server.prependListener('stream', (_stream: unknown, headers: IncomingHttpHeaders, _flags: number, rawHeaders: string[]) =>
        keepDuplicateCredentials(headers, rawHeaders),
      );
    }
    this.server = server;
    this.logger.log(`gRPC server listening on ${this.address}${this.tls ? ' (TLS)' : ''}`);
    const web = this.options.web;
    // The `tls` certificates serve the web address too, unless it has TLS options of its own.
    const sharesTls = this.tls !== undefined && !web?.tls;
    if (web) await this.listenWeb(sharesTls ? { ...web, tls: this.tls!.webOptions() } : web, sharesTls);
    this.tls?.watch();
    if (this.env.metrics) await this.listenMetrics(this.env.metrics);
    this.deleteExpiredRequestRecords();
    return this.boundPort;
  }

  /** Deletes idempotent writes' responses past their retention, hourly (or sooner, for a shorter retention). */
  private deleteExpiredRequestRecords(): void {
    const orm = this.findOrm();
    const records = this.env.requestRecords;
    if (!orm || !records || !orm.getMetadata().has(GrpcRequestRecord.meta.className)) return;
    const every = Math.min(records.retentionMs, 60 * 60_000);
    this.recordCleanup = setInterval(() => {
      records.deleteExpired(orm.em).catch((error: Error) => this.logger.warn(`Expired request ids could not be deleted: ${error.message}`));
    }, every);
    this.recordCleanup.unref();
  }

  /** Serves `GET /metrics` on the metrics address. */
  private async listenMetrics(metrics: ServerMetrics): Promise<void> {
    try {
      this.boundMetricsPort = await metrics.listen();
    } catch (error) {
      await this.close();
      throw error;
    }
    this.logger.log(`Metrics at http://${withPort(this.options.metrics!.url, this.boundMetricsPort)}/metrics`);
  }

  /** `host:port` of the metrics address (the `metrics` option) once it listens; otherwise undefined. */
  get metricsAddress(): string | undefined {
    const url = this.options.metrics?.url;
    return url && this.boundMetricsPort !== undefined ? withPort(url, this.boundMetricsPort) : undefined;
  }

  /** Serves the same handlers over gRPC-Web and Connect on the web address. */
  private async listenWeb(options: ResolvedGrpcWebOptions, sharesTls: boolean): Promise<void> {
    const handle = webRequestHandler(this.registry, this.handlers, options, {
      maxRequestBytes: this.options.maxReceiveMessageLength,
    });
    const web = new WebListener(handle, options);
    if (sharesTls && web.secure) this.tls!.follow(web.secure);
    try {
      this.boundWebPort = await web.listen(options.url);
    } catch (error) {
      await this.close();
      throw withStartupHint(
        new Error(`GrpcFrameworkModule could not listen for gRPC-Web and Connect on ${options.url}: ${(error as Error).message}`),
      );
    }
    this.web = web;
    this.logger.log(`gRPC-Web and Connect listening on ${options.tls ? 'https' : 'http'}://${this.webAddress!}`);
  }

  /** Stops accepting calls, lets in-flight ones finish within the grace period, then cancels the rest. */
  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.tls?.stop();
    clearInterval(this.recordCleanup);
    const metrics = this.env.metrics?.close();
    this.health?.notServing();
    const web = this.web?.close(this.options.shutdownGracePeriodMs);
    this.web = undefined;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, this.options.shutdownGracePeriodMs);
      timer.unref();
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    await web;
    await metrics;
  }

  private async build(): Promise<Server> {
    const orm = this.findOrm();
    if (orm) useEntityMetadata(orm.getMetadata());
    const registry = this.registry;
    const interceptors = await this.interceptorInstances();
    const controllers = this.discoveredControllers();
    const services = servicesAmong(controllers);
    const problems: string[] = [];
    const bound: BoundRpc[] = [];
    const seen = new Map<string, string>();
    for (const service of services) {
      const className = service.instance.constructor.name;
      const definition = registry.service(service.options.service);
      if (!definition) {
        const known = registry.serviceNames();
        problems.push(
          `${className}: service "${service.options.service}" is not declared in the loaded protos ` +
            `(${this.options.protoPath.join(', ')}). Declared services: ${known.join(', ') || 'none'}.`,
        );
        continue;
      }
      if (seen.has(definition.name)) {
        problems.push(`${className}: service ${definition.name} is already served by ${seen.get(definition.name)}.`);
        continue;
      }
      seen.set(definition.name, className);
      checkModelService(service.instance, service.moduleName, orm, definition, problems);
      bound.push(...bindService(service, definition, this.contextCreator, interceptors, this.options, problems));
    }
    if (this.options.grpcMethods === 'serve') {
      const handlers = grpcMethodHandlersAmong(controllers, new Set(services.map((service) => service.instance)));
      bound.push(...bindGrpcMethods(handlers, registry, this.contextCreator, interceptors, seen, problems));
    }
    problems.push(...undecoratedImplementations(controllers, registry, new Set(seen.keys())));
    problems.push(...requestIdProblems(bound, orm));
    if (problems.length) {
      throw new ImproperlyConfiguredError(`The gRPC services are not configured correctly:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    }
    if (orm) this.decidePlans(services, orm, bound);
    return this.createServer(bound, orm);
  }

  private createServer(bound: BoundRpc[], orm: MikroORM | undefined): Server {
    const server = new Server({
      'grpc.max_receive_message_length': this.options.maxReceiveMessageLength,
      'grpc.max_send_message_length': this.options.maxSendMessageLength,
      'grpc.max_connection_idle_ms': this.options.idleConnectionTimeoutMs,
      'grpc.keepalive_time_ms': DEFAULT_KEEPALIVE_TIME_MS,
      'grpc.keepalive_timeout_ms': DEFAULT_KEEPALIVE_TIMEOUT_MS,
      ...this.options.channelOptions,
      interceptors: this.options.serverInterceptors,
    });
    this.defaultForkEntityManager = orm ? () => orm.em.fork() : undefined;
    this.env.statusMapping.databasePort = orm ? databasePortOf(orm) : undefined;
    if (orm) this.env.metrics?.watchPool(() => poolConnectionsOf(orm));
    // Without replicas every read is on the primary already.
    this.env.readsReplicas = !!orm?.config.get('replicas')?.length;
    this.env.readYourWritesMs = this.env.readsReplicas ? this.options.readYourWritesMs : 0;
    if (!this.env.forkEntityManager) {
      this.env.forkEntityManager = this.defaultForkEntityManager;
      this.env.readEntityManager = orm?.em;
    }
    const env = this.env;
    const byService = new Map<string, BoundRpc[]>();
    for (const rpc of bound) byService.set(rpc.service, [...(byService.get(rpc.service) ?? []), rpc]);
    for (const rpcs of byService.values()) {
      const definition: Record<string, GrpcServiceDefinition[string]> = {};
      const implementation: UntypedServiceImplementation = {};
      for (const b of rpcs) {
        definition[b.rpc.name] = {
          path: b.rpc.path,
          requestStream: b.rpc.requestStream,
          responseStream: b.rpc.responseStream,
          requestSerialize: identity,
          requestDeserialize: identity,
          responseSerialize: identity,
          responseDeserialize: identity,
          originalName: b.rpc.name,
        };
        const handler = handlerOf(b, env);
        implementation[b.rpc.name] = grpcJsHandlerOf(handler);
        this.handlers.set(b.rpc.path, handler);
      }
      server.addService(definition as GrpcServiceDefinition, implementation);
    }
    // The health and reflection libraries' requests are decoded and bounded as the framework's are.
    const frameworkServices = this.options.health || this.options.reflection ? frameworkServicesRegistry(this.options) : undefined;
    if (this.options.health) {
      this.health = new ServingHealth([...byService.keys()]);
      this.health.addTo(underFrameworkDecoding(server, frameworkServices!));
    }
    if (this.options.reflection) {
      addReflection(underFrameworkDecoding(server, frameworkServices!), [this.registry, frameworkServices!]);
    }
    this.options.handlersHook?.(server, this.registry);
    return server;
  }

  /** Decides each model service's plan now, and says which paths it takes (debug log, `grpc-framework check`). */
  private decidePlans(services: readonly ServiceToBind[], orm: MikroORM, bound: readonly BoundRpc[]): void {
    for (const service of services) {
      if (!(service.instance instanceof GenericServiceBase)) continue;
      const actions = bound.filter((b) => b.service === service.options.service).map((b) => b.rpc.name);
      const lines = describePlan(planOf(service.instance, orm.em).plan, actions);
      this.report.push(`${service.options.service} (${service.instance.constructor.name})`, ...lines.map((line) => `  ${line}`));
    }
    if (this.report.length) this.logger.debug(`Fast paths:\n${this.report.join('\n')}`);
  }

  private discoveredControllers(): DiscoveredController[] {
    return this.discovery.getControllers().map((wrapper) => ({
      instance: wrapper.instance,
      moduleKey: wrapper.host?.token ?? '',
      moduleName: wrapper.host?.metatype?.name ?? 'its module',
    }));
  }

  private findOrm(): MikroORM | undefined {
    try {
      return this.moduleRef.get(MikroORM, { strict: false });
    } catch {
      return undefined;
    }
  }

  private async interceptorInstances(): Promise<NestInterceptor[]> {
    return Promise.all(
      this.options.interceptors.map(async (interceptor) => {
        if (typeof interceptor !== 'function') return interceptor;
        try {
          return this.moduleRef.get(interceptor, { strict: false });
        } catch {
          // Not a provider: let the injector build it so its own dependencies are resolved.
          return this.moduleRef.create(interceptor);
        }
      }),
    );
  }
}

/** `host:port` of a listening address given as `host:port` (where the port may have been 0). */
function withPort(url: string, port: number): string {
  return `${url.slice(0, url.lastIndexOf(':'))}:${port}`;
}

/** The port the ORM connects to, when it connects over the network and says which. */
function databasePortOf(orm: MikroORM): number | undefined {
  const port = orm.config.get('port') ?? urlPort(orm.config.get('clientUrl'));
  return port ? Number(port) : undefined;
}

/** The primary's pool, for the metrics; undefined for a driver without a knex pool. */
function poolConnectionsOf(orm: MikroORM): PoolConnections | undefined {
  try {
    return driverPoolOf(orm.em, 'write').connections();
  } catch {
    return undefined;
  }
}

function urlPort(url: string | undefined): string | undefined {
  try {
    return url ? new URL(url).port || undefined : undefined;
  } catch {
    return undefined;
  }
}
