import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { startTracing } from '../../sample/tracing';

/** Takes the spans and drops them: what tracing costs in the server, without an exporter's network. */
class DroppingExporter implements SpanExporter {
  export(_spans: ReadableSpan[], done: (result: { code: 0 }) => void): void {
    done({ code: 0 });
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** The sample's tracing set-up (every call sampled, spans batched), exporting nowhere. */
export function registerTracingSdk(): void {
  startTracing(new DroppingExporter());
}
