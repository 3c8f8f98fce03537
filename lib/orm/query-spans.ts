import type { Attributes, Span, Tracer } from '@opentelemetry/api';

type OpenTelemetryApi = typeof import('@opentelemetry/api');

/** What the spans of the framework's own queries are made with (set by a server with `tracing`). */
export interface QueryTracing {
  readonly api: OpenTelemetryApi;
  readonly tracer: Tracer;
}

let tracing: QueryTracing | undefined;

/**
 * Turns on (or off, with undefined) a CLIENT span for each statement the framework runs on the
 * driver's connection itself: its prepared statements, which knex (and so
 * `@opentelemetry/instrumentation-knex`) never sees. Queries MikroORM runs go through knex.
 */
export function traceQueries(next: QueryTracing | undefined): void {
  tracing = next;
}

const DATABASE_SYSTEMS: Readonly<Record<string, string>> = { 'better-sqlite3': 'sqlite', pg: 'postgresql' };

/**
 * The span of one statement, a child of the span active now (the call's), following the
 * database semantic conventions (`db.system.name`, `db.operation.name`, `db.query.text`: the
 * statement with placeholders, never its values); undefined when tracing is off or no call is
 * being traced.
 */
export function startQuerySpan(driverName: string, sql: string): Span | undefined {
  if (!tracing) return undefined;
  const { api, tracer } = tracing;
  const active = api.context.active();
  if (!api.trace.getSpan(active)) return undefined;
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
  if (error !== undefined && tracing) {
    span.setStatus({ code: tracing.api.SpanStatusCode.ERROR, message: error instanceof Error ? error.name : 'Error' });
  }
  span.end();
}
