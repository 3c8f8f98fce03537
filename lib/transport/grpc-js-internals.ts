import { Metadata, Server } from '@grpc/grpc-js';
import type { Http2SecureServer, Http2Server, ServerHttp2Stream } from 'node:http2';

// The one place that reaches into @grpc/grpc-js's private structure (checked against 1.14);
// test/unit/grpc-js-internals.spec.ts fails, naming what moved, when an upgrade changes it.

interface InterceptingCallChain {
  /** The next call in grpc-js's server interceptor chain (ServerInterceptingCall). */
  nextCall?: InterceptingCallChain;
  /** The HTTP/2 stream, on the innermost call (BaseServerInterceptingCall). */
  stream?: ServerHttp2Stream;
  /** BaseServerInterceptingCall: sends the response headers unless they have gone. */
  sendMetadata?(metadata: Metadata): void;
  /** BaseServerInterceptingCall: set once the call has ended (cancelled, or at grpc-js's deadline). */
  cancelled?: boolean;
}

/** A response stream's call: grpc-js's own, or one of the framework's (which have no HTTP/2 stream of grpc-js's). */
type StreamingCall = object;

/**
 * The HTTP/2 stream under a grpc-js server call. grpc-js offers no way to reset a stream
 * whose status cannot be sent (its client stopped reading), which is what this is for.
 */
export function http2StreamOf(call: StreamingCall): ServerHttp2Stream | undefined {
  let link = (call as unknown as { call?: InterceptingCallChain }).call;
  for (let depth = 0; link && depth < 64; depth++) {
    if (link.stream && typeof link.stream.close === 'function') return link.stream;
    link = link.nextCall;
  }
  return undefined;
}

/** Writes response messages already framed (several per write) to a call's HTTP/2 stream. */
export interface FramedResponseWriter {
  /** Whether the stream still takes messages: grpc-js has not ended it (cancelled, at its deadline) and it is open. */
  readonly open: boolean;
  /**
   * Writes length-prefixed messages, after the response headers if they have not gone;
   * `written` runs once HTTP/2 has taken them. False when the stream's buffer is full.
   */
  write(frames: Buffer, written: () => void): boolean;
  /** Runs `listener` each time the stream's buffer has emptied. */
  onDrain(listener: () => void): void;
}

/**
 * Internal: grpc-js (1.14) writes each response message of a stream as a write of its own to
 * the HTTP/2 stream, and the cost of a stream write, not of the message, is most of what a
 * List of small rows costs the server. Writing a batch of messages framed as grpc-js frames
 * them (a zero flag byte, the length in four bytes; grpc-js never compresses responses) in one
 * write is the same bytes on the wire. Only when the call is grpc-js's own
 * `BaseServerInterceptingCall` (`call.call`, holding the stream): with server interceptors,
 * which may see or change each message, this is undefined and messages go through grpc-js.
 * grpc-js's channelz then does not count these messages as sent.
 */
export function framedResponseWriterOf(call: StreamingCall): FramedResponseWriter | undefined {
  const base = (call as unknown as { call?: InterceptingCallChain }).call;
  if (!base || base.nextCall || typeof base.sendMetadata !== 'function') return undefined;
  const stream = base.stream;
  if (!stream || typeof stream.write !== 'function' || typeof stream.close !== 'function') return undefined;
  let headersSent = false;
  return {
    get open() {
      return !base.cancelled && !stream.writableEnded && !stream.destroyed;
    },
    write(frames, written) {
      // What grpc-js does before a call's first message (a no-op when the handler sent its own).
      if (!headersSent) base.sendMetadata!(new Metadata());
      headersSent = true;
      return stream.write(frames, () => written());
    },
    onDrain(listener) {
      stream.on('drain', listener);
    },
  };
}

/**
 * The Node HTTP/2 servers a bound grpc-js `Server` listens with (its private `http2Servers`
 * map, filled by `bindAsync`). grpc-js offers no hook on the raw request headers, which is
 * what this is for. Empty when grpc-js keeps them elsewhere.
 */
export function http2ServersOf(server: Server): Array<Http2Server | Http2SecureServer> {
  const servers = (server as unknown as { http2Servers?: Map<Http2Server | Http2SecureServer, unknown> }).http2Servers;
  return servers instanceof Map ? [...servers.keys()] : [];
}
