import { Metadata, ServiceError, status, StatusObject } from '@grpc/grpc-js';
import type {
  handleBidiStreamingCall,
  handleClientStreamingCall,
  handleServerStreamingCall,
  handleUnaryCall,
  UntypedHandleCall,
} from '@grpc/grpc-js';
import type { EntityManager } from '@mikro-orm/core';
import { Logger } from '@nestjs/common';
import type { RequestLog } from './request-log';
import type { CallProtocol, RpcMetrics, ServerMetrics } from './server-metrics';
import type { RpcTracing, ServerTracing } from './server-tracing';
import type { RequestRecordStore } from '../call/request-record-store';
import { databaseErrorKind, StatusMappingOptions, toGrpcStatus } from '../errors/to-grpc-status';
import { MalformedMessageError } from '../proto/strict-reader';
import { RequestFieldError } from '../proto/wire-format';
import * as http2 from 'node:http2';
import { INTERNAL_ERROR_MESSAGE } from '../common/constants';
import { GrpcError, ValidationFailedError } from '../errors/grpc-error';
import { CallContext, RpcSetup } from '../call/call-context';
import type { Answer, RequestMessagePort, RequestStreamPort, ResponseStreamPort, RpcHandler } from '../call/call-port';
import { RequestStream } from '../call/request-stream';
import { http2StreamOf } from './grpc-js-internals';
import { publishStreamState } from './diagnostics';
import type { DeadlineWatch } from './deadline-watch';
import { FailureLog, stackOf } from './failure-log';
import { handlerMessages, ResponseStream, StreamCounts } from './response-stream';
import type { StreamMemory } from '../call/stream-memory';
import type { PageTokens } from '../call/page-token';
import type { BoundRpc, RpcRequest } from './bound-rpc';

const logger = new Logger('GrpcFramework');

/** The status of a unary call whose deadline passed (one object: made at every call, an Error would cost its stack). */
const DEADLINE_EXCEEDED = new GrpcError(status.DEADLINE_EXCEEDED, 'Deadline exceeded');

type Status = Partial<StatusObject> & { code: status; details: string };

/** What the grpc-js handlers need besides the bound rpc (shared, so tests can swap the EntityManager factory). */
export interface HandlerEnvironment {
  forkEntityManager?: () => EntityManager;
  readEntityManager?: EntityManager;
  /** Response streams running, against the server's and each connection's cap. */
  streams: StreamCounts;
  /** Bytes of rows List streams hold, against `streamMemoryBytes`. */
  memory: StreamMemory;
  /** Signs and reads List page tokens (`pageTokenSecret`). */
  pageTokens: PageTokens;
  /** `maxSendMessageLength`. */
  maxResponseBytes: number;
  /** The deadline of unary calls whose client set none (`callTimeoutMs`). */
  callTimeoutMs: number;
  deadlines: DeadlineWatch;
  failures: FailureLog;
  /** What status mapping knows of the application (the database's port). */
  statusMapping: StatusMappingOptions;
  /** One line per call (`requestLogs`), when on. */
  requestLog?: RequestLog;
  /** Prometheus metrics (`metrics`), when on. */
  metrics?: ServerMetrics;
  /** OpenTelemetry spans (`tracing`), when on. */
  tracing?: ServerTracing;
  /** Idempotent writes' stored responses (`request_id`). */
  requestRecords?: RequestRecordStore;
  /** How long after its write a caller's reads stay on the primary (0: replicas are not used, or the option is off). */
  readYourWritesMs?: number;
  /** MikroORM has read replicas. */
  readsReplicas?: boolean;
}

/** The handler of a bound rpc, by its kind: grpc-js calls it, and so do the web protocols and the in-process channel. */
export function handlerOf(bound: BoundRpc, env: HandlerEnvironment): RpcHandler {
  const { requestStream, responseStream } = bound.rpc;
  if (requestStream)
    return responseStream
      ? { type: 'bidi', handler: bidiStreamingHandler(bound, env) }
      : { type: 'clientStream', handler: clientStreamingHandler(bound, env) };
  return responseStream
    ? { type: 'serverStream', handler: serverStreamingHandler(bound, env) }
    : { type: 'unary', handler: unaryHandler(bound, env) };
}

/**
 * The handler as grpc-js's server takes it. grpc-js's calls are the ports as they are: a type
 * error here means an upgrade changed them.
 */
export function grpcJsHandlerOf(entry: RpcHandler): UntypedHandleCall {
  switch (entry.type) {
    case 'unary': {
      const handler: handleUnaryCall<Buffer, Buffer> = entry.handler;
      return handler;
    }
    case 'serverStream': {
      const handler: handleServerStreamingCall<Buffer, Buffer> = entry.handler;
      return handler;
    }
    case 'clientStream': {
      const handler: handleClientStreamingCall<Buffer, Buffer> = entry.handler;
      return handler;
    }
    case 'bidi': {
      const handler: handleBidiStreamingCall<Buffer, Buffer> = entry.handler;
      return handler;
    }
  }
}

function unaryHandler(bound: BoundRpc, env: HandlerEnvironment): (call: RequestMessagePort, answer: Answer) => void {
  const setup = rpcSetup(bound, env);
  const metricsOf = rpcMetrics(bound, env);
  const tracing = env.tracing?.rpc(bound.rpc, bound.service);
  return (call, callback) => {
    const request = decodeRequest(bound, call.request);
    if (request instanceof Error) {
      callback(serviceError(malformed(bound, request)));
      return;
    }
    answer(bound, env, new CallContext(call, setup), request, callback, metricsOf?.(call), tracing);
  };
}

/** A client-streaming rpc: the handler receives the request messages as a `RequestStream` and answers once. */
function clientStreamingHandler(bound: BoundRpc, env: HandlerEnvironment): (call: RequestStreamPort, answer: Answer) => void {
  const setup = rpcSetup(bound, env);
  const metricsOf = rpcMetrics(bound, env);
  const tracing = env.tracing?.rpc(bound.rpc, bound.service);
  return (call, callback) => {
    const context = new CallContext(call, setup);
    answer(bound, env, context, requestStreamOf(bound, call, context), callback, metricsOf?.(call), tracing);
  };
}

/** Runs a call with one response and answers it once: with the handler's response, its error, or DEADLINE_EXCEEDED. */
function answer(
  bound: BoundRpc,
  env: HandlerEnvironment,
  context: CallContext,
  request: RpcRequest,
  callback: Answer,
  metrics: RpcMetrics | undefined,
  tracing: RpcTracing | undefined,
): void {
  let answered = false;
  const log = env.requestLog;
  const startedAt = log || metrics ? performance.now() : 0;
  metrics?.started();
  const span = tracing?.start(context.metadata);
  const answerOnce: Answer = (error, bytes, trailers) => {
    if (answered) return;
    answered = true;
    callback(error, bytes, trailers);
    const code = error ? (error.code ?? status.UNKNOWN) : status.OK;
    log?.record(context, code, startedAt);
    if (metrics) {
      metrics.received(request instanceof RequestStream ? request.received : 1);
      if (!error) metrics.sent(1);
      metrics.handled(code, (performance.now() - startedAt) / 1000);
    }
    if (span) tracing!.end(span, code, error?.details);
  };
  // At the deadline the caller is answered, whatever the handler is still waiting for (a
  // stalled database). Not through the context's AbortSignal: grpc-js ends every unary call
  // with a 'cancelled' event, which would abort a signal (an Error and its stack) per call.
  const watched = Number.isFinite(context.deadlineAt)
    ? env.deadlines.watch(context.deadlineAt, () => answerOnce(serviceError(statusFor(bound, env, DEADLINE_EXCEEDED))))
    : undefined;
  const ended = () => {
    if (watched) env.deadlines.release(watched);
    context.release();
  };
  // No closure per call unless the call is traced.
  const result = span ? tracing!.within(span, () => invoke(bound, request, context)) : invoke(bound, request, context);
  result.then(
    (response) => {
      ended();
      let bytes: Buffer;
      try {
        bytes = context.encodeResponse(response);
      } catch (error) {
        if (error instanceof GrpcError) answerOnce(serviceError(statusFor(bound, env, error)));
        else {
          logger.error(`${bound.rpc.path}: the response could not be encoded as ${typeNameOf(bound)}`, stackOf(error));
          answerOnce(serviceError({ code: status.INTERNAL, details: INTERNAL_ERROR_MESSAGE }));
        }
        return;
      }
      answerOnce(null, bytes, context.trailingMetadataIfSet);
    },
    (error: unknown) => {
      ended();
      answerOnce(serviceError(statusFor(bound, env, error)));
    },
  );
}

/** Runs the handler of a call with one response, and its exception filters on a failure. */
function invoke(bound: BoundRpc, request: RpcRequest, context: CallContext): Promise<unknown> {
  return bound.recover
    ? bound.invoke(request, context).catch((error: unknown) => bound.recover!(error, request, context))
    : bound.invoke(request, context);
}

function serverStreamingHandler(bound: BoundRpc, env: HandlerEnvironment): (call: RequestMessagePort & ResponseStreamPort) => void {
  const setup = rpcSetup(bound, env);
  const metricsOf = rpcMetrics(bound, env);
  const tracing = env.tracing?.rpc(bound.rpc, bound.service);
  return (call) => {
    const request = decodeRequest(bound, call.request);
    if (request instanceof Error) {
      call.emit('error', serviceError(malformed(bound, request)));
      return;
    }
    stream(bound, env, call, () => request, setup, metricsOf?.(call), tracing);
  };
}

/** A bidi rpc: the handler receives the request messages as a `RequestStream` and returns the responses as a server-streaming one does. */
function bidiStreamingHandler(bound: BoundRpc, env: HandlerEnvironment): (call: RequestStreamPort & ResponseStreamPort) => void {
  const setup = rpcSetup(bound, env);
  const metricsOf = rpcMetrics(bound, env);
  const tracing = env.tracing?.rpc(bound.rpc, bound.service);
  return (call) => stream(bound, env, call, (context) => requestStreamOf(bound, call, context), setup, metricsOf?.(call), tracing);
}

/** Runs a call with a response stream, within the server's and the peer's cap on open streams. */
function stream(
  bound: BoundRpc,
  env: HandlerEnvironment,
  call: ResponseStreamPort,
  requestOf: (context: CallContext) => RpcRequest,
  setup: RpcSetup,
  metrics: RpcMetrics | undefined,
  tracing: RpcTracing | undefined,
): void {
  const peer = call.getPeer();
  const refused = env.streams.enter(peer);
  if (refused) {
    call.emit('error', serviceError({ code: status.RESOURCE_EXHAUSTED, details: refused }));
    return;
  }
  const context = new CallContext(call, setup);
  const request = requestOf(context);
  const log = env.requestLog;
  const startedAt = log || metrics ? performance.now() : 0;
  metrics?.started();
  const span = tracing?.start(context.metadata);
  let code: number = status.OK;
  let details: string | undefined;
  (span
    ? tracing!.within(span, () => streamResponses(bound, call, request, context, metrics))
    : streamResponses(bound, call, request, context, metrics)
  )
    .catch(async (error: unknown) => {
      code = codeOf(error);
      // grpc-js may have ended the call at the deadline already (and, writing after that end,
      // errored it): the stream still has to go if its status cannot follow its data.
      if (context.deadlineExceeded) resetUnlessEnded(call);
      if (call.cancelled || call.writableEnded) return;
      try {
        if (!bound.recover) throw error;
        // An exception filter that answers instead of raising ends the stream where it stopped.
        await bound.recover(error, request, context);
        code = status.OK;
        if (!call.cancelled && !call.writableEnded) call.end(context.trailingMetadataIfSet);
      } catch (final) {
        const failed = statusFor(bound, env, final);
        code = failed.code;
        details = failed.details;
        if (!call.cancelled && !call.writableEnded) call.emit('error', serviceError(failed));
      }
    })
    .finally(() => {
      const ended = call.cancelled && code === status.OK ? status.CANCELLED : code;
      log?.record(context, ended, startedAt);
      if (metrics) {
        metrics.received(request instanceof RequestStream ? request.received : 1);
        metrics.handled(ended, (performance.now() - startedAt) / 1000);
      }
      if (span) tracing!.end(span, ended, details);
      env.streams.leave(peer);
      context.release();
      publishStreamState(bound.rpc.path, 'ended');
    });
}

/** The metrics of an rpc for a call's protocol (a grpc-js call has no `protocol`), made once per protocol; undefined when metrics are off. */
function rpcMetrics(bound: BoundRpc, env: HandlerEnvironment): ((call: object) => RpcMetrics) | undefined {
  const metrics = env.metrics;
  if (!metrics) return undefined;
  const made: Partial<Record<CallProtocol, RpcMetrics>> = {};
  return (call) => {
    const protocol = (call as { protocol?: CallProtocol }).protocol ?? 'grpc';
    return (made[protocol] ??= metrics.rpc(bound.rpc, bound.service, protocol));
  };
}

/** The status code an error carries (a `GrpcError`'s, the signal's reason's), UNKNOWN otherwise. */
function codeOf(error: unknown): number {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : status.UNKNOWN;
}

/** The request messages of a client-streaming or bidi call, decoded as the handler takes them. */
function requestStreamOf(bound: BoundRpc, call: RequestStreamPort, context: CallContext): RequestStream {
  // Node's default iterator destroys the stream when the iteration ends, which for a bidi call
  // would end its responses too.
  const messages: AsyncIterable<Buffer> = { [Symbol.asyncIterator]: () => call.iterator({ destroyOnReturn: false }) };
  return new RequestStream(messages, (bytes) => bound.rpc.request.decode(bytes), context.signal, bound.rpc.request.type.fullName.slice(1));
}

/**
 * Writes what a server-streaming handler returns: an async iterable (or array) of messages,
 * where an array item is a batch (what List yields), written without an async step per message.
 * Stops at once when the client cancels or the deadline passes (no more reads), and throws the
 * reason then.
 */
async function streamResponses(
  bound: BoundRpc,
  call: ResponseStreamPort,
  request: RpcRequest,
  context: CallContext,
  metrics: RpcMetrics | undefined,
): Promise<void> {
  const signal = context.signal;
  if (signal.aborted) throw signal.reason;
  const out = new ResponseStream(call, signal, bound.rpc.path);
  context.responseRoom = out;
  const result = await bound.invoke(request, context);
  let sent = 0;
  try {
    for await (const item of handlerMessages(result, bound.rpc.path)) {
      const written = await writeItem(bound, out, item, sent, context);
      sent += written;
      metrics?.sent(written);
      // Everything the handler has given so far goes out before it is asked for more.
      out.flush();
      if (signal.aborted) break;
    }
  } finally {
    // Messages before an error go out ahead of its status, as they would one by one.
    out.flush();
  }
  if (signal.aborted) throw signal.reason;
  call.end(context.trailingMetadataIfSet);
}

/**
 * Writes one item a server-streaming handler gave: a message, or a batch of them (an array),
 * after the `sent` messages before it; resolves with how many it wrote. A function of its own so that, once it returns, nothing of the item (its last message, that
 * message's bytes) stays reachable while the handler reads the next one.
 */
async function writeItem(bound: BoundRpc, out: ResponseStream, item: unknown, sent: number, context: CallContext): Promise<number> {
  const { signal, maxResponseBytes: max } = context;
  const { response } = bound.rpc;
  const batch = Array.isArray(item) ? item : undefined;
  const count = batch ? batch.length : 1;
  for (let i = 0; i < count; i++) {
    // A message waits until the client has taken enough; the next item is asked for once this
    // one is written, so a handler that reads by `context.responseRoom` waits holding nothing.
    if (!out.hasRoom) await out.room();
    if (signal.aborted) return i;
    const message: unknown = batch ? batch[i] : item;
    const bytes = Buffer.isBuffer(message) ? message : response.encode(message);
    if (bytes.length > max) throw tooLargeToStream(bound, message, sent + i, bytes.length, max);
    out.write(bytes);
  }
  return count;
}

/** How long a call whose deadline passed gets to deliver its status before its HTTP/2 stream is reset. */
const RESET_AFTER_DEADLINE_MS = 250;

/**
 * The status of a stream goes out after the messages queued before it, which a client that
 * stopped reading never takes (and Node's HTTP/2 cannot send trailers ahead of queued data, as
 * C-core does): such a stream is reset (RST_STREAM CANCEL), so it holds nothing past its
 * deadline. A client that set the deadline reports DEADLINE_EXCEEDED by itself.
 */
function resetUnlessEnded(call: ResponseStreamPort): void {
  const timer = setTimeout(() => {
    const stream = http2StreamOf(call);
    if (stream && !stream.closed && !stream.destroyed) stream.close(http2.constants.NGHTTP2_CANCEL);
  }, RESET_AFTER_DEADLINE_MS);
  timer.unref();
}

/** What a stream ends with when a message cannot be sent: which one, and its first field (a model's key). */
function tooLargeToStream(bound: BoundRpc, message: unknown, sent: number, size: number, max: number): GrpcError {
  const first = bound.rpc.response.type.fieldsArray[0]?.name;
  const key = first && message && typeof message === 'object' ? (message as Record<string, unknown>)[first] : undefined;
  const which = key === undefined ? `Message ${sent + 1}` : `Message ${sent + 1} (${first} ${String(key)})`;
  return new GrpcError(
    status.RESOURCE_EXHAUSTED,
    `${which} of the stream is ${size} bytes, more than this server sends (maxSendMessageLength ${max}); the stream ends before it.`,
  );
}

/** What every call of one rpc shares. */
function rpcSetup(bound: BoundRpc, env: HandlerEnvironment): RpcSetup {
  return {
    action: bound.rpc.name,
    serviceName: bound.service,
    response: bound.rpc.response,
    maxResponseBytes: env.maxResponseBytes,
    // Streams last as long as their client wants (a deadline of its own still applies).
    // Calls with one response (unary, client streaming) end in bounded time; response streams end at their client's deadline.
    defaultTimeoutMs: bound.rpc.responseStream ? undefined : env.callTimeoutMs,
    environment: env,
  };
}

function typeNameOf(bound: BoundRpc): string {
  return bound.rpc.response.type.fullName.slice(1);
}

function decodeRequest(bound: BoundRpc, bytes: Buffer): Record<string, unknown> | Error {
  try {
    return bound.rpc.request.decode(bytes);
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

function malformed(bound: BoundRpc, error: Error): Status {
  if (error instanceof RequestFieldError) {
    const mapped = toGrpcStatus(new ValidationFailedError([{ field: error.field, description: error.description, reason: 'INVALID' }]));
    return { code: mapped.code, details: mapped.details, metadata: mapped.metadata };
  }
  const typeName = bound.rpc.request.type.fullName.slice(1);
  const reason = error instanceof MalformedMessageError ? error.message : 'it could not be decoded';
  return { code: status.INVALID_ARGUMENT, details: `The request is not a valid ${typeName} message: ${reason}.` };
}

function statusFor(bound: BoundRpc, env: HandlerEnvironment, error: unknown): Status {
  const mapped = toGrpcStatus(error, env.statusMapping);
  env.failures.failed(bound.rpc.path, error, mapped);
  if (env.metrics) {
    const kind = databaseErrorKind(error, env.statusMapping);
    if (kind) env.metrics.databaseFailed(kind);
  }
  return { code: mapped.code, details: mapped.details, metadata: mapped.metadata };
}

export function serviceError(s: Status): ServiceError {
  const error = new Error(s.details) as ServiceError;
  error.code = s.code;
  error.details = s.details;
  error.metadata = s.metadata ?? new Metadata();
  return error;
}
