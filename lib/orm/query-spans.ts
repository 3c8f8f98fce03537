import type { Attributes, Context, Span, Tracer } from '@opentelemetry/api';

type OpenTelemetryApi = typeof import('@opentelemetry/api');

/** The OpenTelemetry API once a server traces (an optional peer dependency, so not imported here). */
let api: OpenTelemetryApi | undefined;
/** The key under which a call's context holds the tracer of its queries. */
let tracerKey: symbol | undefined;

/**
 * Lets statements the framework runs on the driver itself be traced: its prepared statements,
 * which knex (and so `@opentelemetry/instrumentation-knex`) never sees. A call's context says
 * whether its queries are traced, and by which tracer (`withQueryTracer`).
 */
export function traceQueriesWith(openTelemetry: OpenTelemetryApi): void {
  api = openTelemetry;
  tracerKey ??= openTelemetry.createContextKey('nestjs-grpc-framework query tracer');
}

/** The call's context, with its queries traced by `tracer`. */
export function withQueryTracer(context: Context, tracer: Tracer): Context {
  return context.setValue(tracerKey!, tracer);
}

const DATABASE_SYSTEMS: Readonly<Record<string, string>> = { 'better-sqlite3': 'sqlite', pg: 'postgresql' };

/**
 * The span of one statement, a child of the call's span, following the database semantic
 * conventions (`db.system.name`, `db.operation.name`, `db.query.text`: the statement with
 * placeholders, never its values); undefined when the call's queries are not traced.
 */
export function startQuerySpan(driverName: string, sql: string): Span | undefined {
  if (!api) return undefined;
  const active = api.context.active();
  const tracer = active.getValue(tracerKey!) as Tracer | undefined;
  if (!tracer) return undefined;
  const operation = /^\s*(\w+)/.exec(sql)?.[1]?.toUpperCase() ?? 'QUERY';
  const attributes: Attributes = {
    'db.system.name': DATABASE_SYSTEMS[driverName] ?? driverName,
    'db.operation.name': operation,
    'db.query.text': sql,
  };
  return tracer.startSpan(operation, { kind: api.SpanKind.CLIENT, attributes }, active);
}

/** Ends a statement's span, marked as an error when the statement failed. */
export function endQuerySpan(span: Span, error?: unknown): void {
  if (error !== undefined && api) {
    span.setStatus({ code: api.SpanStatusCode.ERROR, message: error instanceof Error ? error.name : 'Error' });
  }
  span.end();
}
