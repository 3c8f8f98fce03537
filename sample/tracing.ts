import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, BatchSpanProcessor, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';

/**
 * Run once before Nest starts, so `forRoot({ tracing: true })` has somewhere to send its spans
 * (`NodeSDK.start()` from @opentelemetry/sdk-node does the same): W3C trace context in and out,
 * a context manager so that spans made inside a handler (yours, knex's, an outgoing call's)
 * are the call's children, and a provider that batches spans to `exporter` (in production an
 * OTLP exporter, e.g. `new OTLPTraceExporter()` from @opentelemetry/exporter-trace-otlp-proto).
 */
export function startTracing(
  exporter: SpanExporter,
  processor: (exporter: SpanExporter) => SpanProcessor = (next) => new BatchSpanProcessor(next),
): BasicTracerProvider {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const provider = new BasicTracerProvider({ spanProcessors: [processor(exporter)] });
  trace.setGlobalTracerProvider(provider);
  return provider;
}
