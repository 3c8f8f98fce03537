import { Metadata, status } from '@grpc/grpc-js';
import type { Attributes, Context, Span, TextMapGetter, Tracer, TracerProvider } from '@opentelemetry/api';
import { ImproperlyConfiguredError } from '../errors/improperly-configured.error';
import type { TracingOptions } from '../interfaces/grpc-framework-options.interface';
import type { RpcDefinition } from '../proto/proto-registry';
import { traceQueriesWith, withQueryTracer } from '../orm/query-spans';

/** The OpenTelemetry API (an optional peer dependency, loaded only when tracing is on). */
export type OpenTelemetryApi = typeof import('@opentelemetry/api');

/** The name spans are made under (`InstrumentationScope`). */
export const TRACER_NAME = 'nestjs-grpc-framework';

/** The codes the RPC semantic conventions count as a server's error; the others are the client's. */
const SERVER_ERRORS = new Set<number>([
  status.UNKNOWN,
  status.DEADLINE_EXCEEDED,
  status.UNIMPLEMENTED,
  status.INTERNAL,
  status.UNAVAILABLE,
  status.DATA_LOSS,
]);

/** Reads a W3C `traceparent` (or any propagator's fields) from a call's metadata. */
const METADATA_GETTER: TextMapGetter<Metadata> = {
  get: (metadata, key) => {
    const values = metadata.get(key);
    return values.length ? values.map(String) : undefined;
  },
  keys: (metadata) => Object.keys(metadata.getMap()),
};

/** One call's span and the context its handler runs in. */
export interface CallSpan {
  readonly span: Span;
  readonly context: Context;
}

/** The spans of one rpc: its name and attributes made once. */
export interface RpcTracing {
  /** Starts the span of a call that sent `metadata`. */
  start(metadata: Metadata): CallSpan;
  /** Runs `work` (the handler) with the call's span active, so the spans it makes are its children. */
  within<T>(call: CallSpan, work: () => T): T;
  /** Ends the call's span with its status. */
  end(call: CallSpan, code: number, details?: string): void;
}

/**
 * OpenTelemetry spans for every call on every address (gRPC, web, in-process), following the
 * RPC semantic conventions: a SERVER span named `service/method` with `rpc.system`,
 * `rpc.service`, `rpc.method` and `rpc.grpc.status_code`, continuing the caller's trace from
 * its `traceparent` metadata (a web call's headers are its metadata), or nested in a span
 * already active for the call (`@opentelemetry/instrumentation-grpc`'s, or an in-process
 * caller's). A missing or malformed `traceparent` starts a new trace. Only
 * `@opentelemetry/api` is used: the application's SDK chooses the sampler and the exporter.
 */
export class ServerTracing {
  private readonly api: OpenTelemetryApi;
  private readonly tracer: Tracer;
  private readonly databaseSpans: boolean;

  constructor(options: TracingOptions) {
    const api = (this.api = openTelemetryApi());
    const provider = (options.tracerProvider as TracerProvider | undefined) ?? api.trace.getTracerProvider();
    this.tracer = provider.getTracer(TRACER_NAME);
    this.databaseSpans = options.databaseSpans !== false;
    if (this.databaseSpans) traceQueriesWith(api);
  }

  /** The tracing of one rpc, made once when the server starts. */
  rpc(rpc: RpcDefinition, service: string): RpcTracing {
    const { api, tracer, databaseSpans } = this;
    const name = `${service}/${rpc.name}`;
    const attributes: Attributes = { 'rpc.system': 'grpc', 'rpc.service': service, 'rpc.method': rpc.name };
    const options = { kind: api.SpanKind.SERVER, attributes };
    return {
      start(metadata) {
        const active = api.context.active();
        const parent = api.trace.getSpan(active)?.isRecording() ? active : api.propagation.extract(active, metadata, METADATA_GETTER);
        const span = tracer.startSpan(name, options, parent);
        const context = api.trace.setSpan(parent, span);
        return { span, context: databaseSpans ? withQueryTracer(context, tracer) : context };
      },
      within: (call, work) => api.context.with(call.context, work),
      end({ span }, code, details) {
        span.setAttribute('rpc.grpc.status_code', code);
        if (SERVER_ERRORS.has(code)) span.setStatus({ code: api.SpanStatusCode.ERROR, message: details });
        span.end();
      },
    };
  }
}

function openTelemetryApi(): OpenTelemetryApi {
  try {
    return require(require.resolve('@opentelemetry/api', { paths: [process.cwd(), __dirname] })) as OpenTelemetryApi;
  } catch {
    throw new ImproperlyConfiguredError(
      'The `tracing` option needs @opentelemetry/api: npm i @opentelemetry/api@1 (and the SDK of your choice).',
    );
  }
}
