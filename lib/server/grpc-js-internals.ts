import type { ServerDuplexStream, ServerWritableStream } from '@grpc/grpc-js';
import type { ServerHttp2Stream } from 'node:http2';

// The one place that reaches into @grpc/grpc-js's private structure (checked against 1.14);
// test/unit/grpc-js-internals.spec.ts fails, naming what moved, when an upgrade changes it.

interface InterceptingCallChain {
  /** The next call in grpc-js's server interceptor chain (ServerInterceptingCall). */
  nextCall?: InterceptingCallChain;
  /** The HTTP/2 stream, on the innermost call (BaseServerInterceptingCall). */
  stream?: ServerHttp2Stream;
}

/**
 * The HTTP/2 stream under a grpc-js server call. grpc-js offers no way to reset a stream
 * whose status cannot be sent (its client stopped reading), which is what this is for.
 */
export function http2StreamOf(call: ServerWritableStream<unknown, unknown> | ServerDuplexStream<unknown, unknown>): ServerHttp2Stream | undefined {
  let link = (call as unknown as { call?: InterceptingCallChain }).call;
  for (let depth = 0; link && depth < 64; depth++) {
    if (link.stream && typeof link.stream.close === 'function') return link.stream;
    link = link.nextCall;
  }
  return undefined;
}
