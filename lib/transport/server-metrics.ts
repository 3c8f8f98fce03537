import * as http from 'node:http';
import { hostAndPort } from '../common/address';
import type { Counter, Registry } from 'prom-client';
import { labelPairs, LatencyHistogram } from './latency-histogram';
import { ImproperlyConfiguredError } from '../errors/improperly-configured.error';
import type { MetricsOptions } from '../interfaces/grpc-framework-options.interface';
import type { RpcDefinition } from '../proto/proto-registry';
import type { PoolConnections } from '../orm/mikro-orm-internals';
import type { DatabaseErrorKind } from '../errors/to-grpc-status';

/** The part of prom-client used here (an optional peer dependency, loaded only when metrics are on). */
type PromClient = typeof import('prom-client');

/** go-grpc-prometheus's default buckets of `grpc_server_handling_seconds`. */
const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** How a call reached the server: a label of every metric. */
export type CallProtocol = 'grpc' | 'web' | 'in-process';

const STATUS_NAMES = [
  'OK',
  'Canceled',
  'Unknown',
  'InvalidArgument',
  'DeadlineExceeded',
  'NotFound',
  'AlreadyExists',
  'PermissionDenied',
  'ResourceExhausted',
  'FailedPrecondition',
  'Aborted',
  'OutOfRange',
  'Unimplemented',
  'Internal',
  'Unavailable',
  'DataLoss',
  'Unauthenticated',
];

/** One rpc's metrics for one protocol: what a call counts. */
export interface RpcMetrics {
  started(): void;
  received(count: number): void;
  sent(count: number): void;
  /** The call ended with `code` after `seconds`. */
  handled(code: number, seconds: number): void;
}

type RpcLabels = Record<'grpc_type' | 'grpc_service' | 'grpc_method' | 'protocol', string>;

/**
 * One rpc's counts over one protocol, as plain numbers: prom-client hashes and checks a
 * series' labels on every `inc()` (a third of a microsecond each), so calls count here and the
 * counters read these numbers when scraped.
 */
class RpcCounts implements RpcMetrics {
  startedCount = 0;
  receivedCount = 0;
  sentCount = 0;
  readonly handledCounts: number[] = STATUS_NAMES.map(() => 0);

  readonly seconds: LatencyHistogram;
  /** The labels as the text format writes them, made once. */
  readonly labelText: string;

  constructor(
    readonly labels: RpcLabels,
    buckets: readonly number[],
  ) {
    this.seconds = new LatencyHistogram(buckets);
    this.labelText = labelPairs(labels);
  }

  started(): void {
    this.startedCount++;
  }
  received(count: number): void {
    this.receivedCount += count;
  }
  sent(count: number): void {
    this.sentCount += count;
  }
  handled(code: number, seconds: number): void {
    this.handledCounts[code in this.handledCounts ? code : 2]!++;
    this.seconds.observe(seconds);
  }

  get handledCount(): number {
    return this.handledCounts.reduce((sum, count) => sum + count, 0);
  }
}

/**
 * Prometheus metrics under the names dashboards built for go-grpc-prometheus read
 * (`grpc_server_started_total`, `grpc_server_handled_total{grpc_code}`,
 * `grpc_server_msg_received_total`, `grpc_server_msg_sent_total`,
 * `grpc_server_handling_seconds`), with a `protocol` label (`grpc`, `web`, `in-process`), plus
 * calls in flight, the List streams' memory, the database's pool and its failures. Labels come
 * from the rpcs bound at start-up, never from what a client sends, so their number is bounded.
 * Served as text on `metrics.url`.
 */
export class ServerMetrics {
  readonly registry: Registry;
  private readonly buckets: readonly number[];
  private readonly databaseErrors: Counter<string>;
  private readonly byRpc = new Map<string, RpcCounts>();
  /** The database's connection pool, once the server knows its ORM. */
  private pool?: () => PoolConnections | undefined;
  private server?: http.Server;

  constructor(
    private readonly options: MetricsOptions,
    streamMemoryInUse: () => number,
  ) {
    const prom = promClient();
    const registry = (this.registry = new prom.Registry());
    const counts = () => this.byRpc.values();
    const labels = ['grpc_type', 'grpc_service', 'grpc_method', 'protocol'];
    /** A counter read from each rpc's counts when scraped. */
    const counted = (name: string, help: string, value: (rpc: RpcCounts) => number) =>
      new prom.Counter({
        name,
        help,
        labelNames: labels,
        registers: [registry],
        collect() {
          this.reset();
          for (const rpc of counts()) this.inc(rpc.labels, value(rpc));
        },
      });
    counted('grpc_server_started_total', 'Total number of RPCs started on the server.', (rpc) => rpc.startedCount);
    new prom.Counter({
      name: 'grpc_server_handled_total',
      help: 'Total number of RPCs completed on the server, regardless of success or failure.',
      labelNames: [...labels, 'grpc_code'],
      registers: [registry],
      collect() {
        this.reset();
        for (const rpc of counts()) {
          rpc.handledCounts.forEach((count, code) => {
            if (count) this.inc({ ...rpc.labels, grpc_code: STATUS_NAMES[code]! }, count);
          });
        }
      },
    });
    counted('grpc_server_msg_received_total', 'Total number of RPC stream messages received on the server.', (rpc) => rpc.receivedCount);
    counted('grpc_server_msg_sent_total', 'Total number of gRPC stream messages sent by the server.', (rpc) => rpc.sentCount);
    this.buckets = [...(options.buckets ?? DEFAULT_BUCKETS)].sort((a, b) => a - b);
    new prom.Gauge({
      name: 'grpc_server_in_flight_calls',
      help: 'RPCs being served now.',
      labelNames: ['protocol'],
      registers: [registry],
      collect() {
        const byProtocol = new Map<string, number>();
        for (const rpc of counts()) {
          const { protocol } = rpc.labels;
          byProtocol.set(protocol, (byProtocol.get(protocol) ?? 0) + rpc.startedCount - rpc.handledCount);
        }
        this.reset();
        for (const [protocol, inFlight] of byProtocol) this.set({ protocol }, inFlight);
      },
    });
    new prom.Gauge({
      name: 'grpc_framework_stream_memory_bytes',
      help: 'Bytes of rows List streams hold, within streamMemoryBytes.',
      registers: [registry],
      collect() {
        this.set(streamMemoryInUse());
      },
    });
    this.databaseErrors = new prom.Counter({
      name: 'grpc_framework_db_errors_total',
      help: 'Calls that failed in the database, by kind (unique_violation, deadlock, unavailable, ...).',
      labelNames: ['kind'],
      registers: [registry],
    });
    const pool = () => this.pool?.();
    new prom.Gauge({
      name: 'grpc_framework_db_pool_connections',
      help: "Connections of the database's pool (the primary's), by state: used, free, pending (awaited).",
      labelNames: ['state'],
      registers: [registry],
      collect() {
        const connections = pool();
        if (!connections) return;
        for (const state of ['used', 'free', 'pending'] as const) this.set({ state }, connections[state]);
      },
    });
    if (options.processMetrics) prom.collectDefaultMetrics({ register: registry });
  }

  /** Reports the connections of the database's pool at each scrape. */
  watchPool(connections: () => PoolConnections | undefined): void {
    this.pool = connections;
  }

  /** Counts a call that failed in the database. */
  databaseFailed(kind: DatabaseErrorKind): void {
    this.databaseErrors.inc({ kind });
  }

  /** The metrics of one rpc over one protocol (made once, then reused by every call). */
  rpc(rpc: RpcDefinition, service: string, protocol: CallProtocol): RpcMetrics {
    const key = `${protocol} ${rpc.path}`;
    let found = this.byRpc.get(key);
    if (found) return found;
    const type = rpc.requestStream
      ? rpc.responseStream
        ? 'bidi_stream'
        : 'client_stream'
      : rpc.responseStream
        ? 'server_stream'
        : 'unary';
    const labels = { grpc_type: type, grpc_service: service, grpc_method: rpc.name, protocol };
    found = new RpcCounts(labels, this.buckets);
    this.byRpc.set(key, found);
    return found;
  }

  /** Every metric in Prometheus's text format: prom-client's registry, then the latency histogram. */
  async text(): Promise<string> {
    const name = 'grpc_server_handling_seconds';
    const histogram = [
      `# HELP ${name} Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.`,
      `# TYPE ${name} histogram`,
    ];
    for (const rpc of this.byRpc.values()) histogram.push(...rpc.seconds.lines(name, rpc.labelText));
    return `${await this.registry.metrics()}\n${histogram.join('\n')}\n`;
  }

  /** Serves `GET /metrics` on the metrics address; resolves with the bound port. */
  async listen(): Promise<number> {
    const { host, port } = hostAndPort(this.options.url);
    const server = (this.server = http.createServer((request, response) => {
      if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
        response.writeHead(404, { 'content-type': 'text/plain' }).end('Metrics are at GET /metrics.\n');
        return;
      }
      this.text().then(
        (text) => response.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
        (error: Error) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`${error.message}\n`),
      );
    }));
    return new Promise((resolve, reject) => {
      server.once('error', (error) =>
        reject(
          new ImproperlyConfiguredError(
            `GrpcFrameworkModule could not serve metrics on ${this.options.url}: ${error.message}. Choose another metrics.url (or runserver --metrics), or stop the other server.`,
          ),
        ),
      );
      server.listen(port, host, () => resolve((server.address() as { port: number }).port));
    });
  }

  /** Stops serving metrics; a scrape under way is answered first. */
  close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return Promise.resolve();
    return new Promise((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
  }
}

function promClient(): PromClient {
  try {
    return require(require.resolve('prom-client', { paths: [process.cwd(), __dirname] })) as PromClient;
  } catch {
    throw new ImproperlyConfiguredError('The `metrics` option needs prom-client: npm i prom-client@15.');
  }
}
