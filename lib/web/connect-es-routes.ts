import { fromBinary, toBinary } from '@bufbuild/protobuf';
import type { DescMessage, DescMethod, MessageShape } from '@bufbuild/protobuf';
import { ConnectError, createConnectRouter, createContextKey, createContextValues } from '@connectrpc/connect';
import type { ConnectRouter, HandlerContext } from '@connectrpc/connect';
import type { UniversalHandler, UniversalServerResponse } from '@connectrpc/connect/protocol';
import {
  compressionBrotli,
  compressionGzip,
  universalRequestFromNodeRequest,
  universalResponseToNodeResponse,
} from '@connectrpc/connect-node';
import { Logger } from '@nestjs/common';
import type { CallPeer } from '../transport/bridged-server-call';
import type { RpcHandler } from '../call/call-port';
import type { WebRequest, WebResponse } from '../interfaces/grpc-web-options.interface';
import { ConnectEsCall } from './connect-es-call';
import { mustCloseConnection } from './web-call-request';
import type { WebMethod } from './web-methods';
import type { WebTransportLimits } from './web-transport';

// connect-es (@connectrpc/connect-node) answers what the framework does not answer itself:
// client-streaming and bidi calls over Connect, compressed request bodies and Connect GET
// requests. Everything this file relies on from connect-es is here.

/** Who sent a web request: set per request, read by each call. */
const PEER = createContextKey<CallPeer>({ peer: 'web' }, { description: 'the web client' });

const EMPTY = Buffer.alloc(0);
const logger = new Logger('GrpcFramework');

/** connect-es's routes for the served rpcs, by method path. */
export function connectEsRoutes(methods: ReadonlyMap<string, WebMethod>, limits: WebTransportLimits): Map<string, UniversalHandler> {
  const router = createConnectRouter({
    grpc: false,
    grpcWeb: true,
    connect: true,
    readMaxBytes: limits.maxRequestBytes,
    writeMaxBytes: limits.maxResponseBytes,
    acceptCompression: [compressionGzip, compressionBrotli],
    // As WebJson reads and writes JSON: an unknown field is an error, every field is written.
    jsonOptions: { ignoreUnknownFields: false, alwaysEmitImplicit: true },
  });
  for (const { path, method, entry } of methods.values()) addRoute(router, method, path, entry);
  return new Map(router.handlers.map((handler) => [handler.requestPath, handler]));
}

/** Serves one request through a connect-es route. */
export function serveWithConnectEs(route: UniversalHandler, request: WebRequest, response: WebResponse, peer: CallPeer): void {
  const universal = universalRequestFromNodeRequest(request, response, undefined, createContextValues().set(PEER, peer));
  route(universal)
    .then(malformedAsInvalid)
    .then((answer) => {
      if (mustCloseConnection(request) && !response.headersSent) response.setHeader('connection', 'close');
      return universalResponseToNodeResponse(answer, response);
    })
    .catch((error: unknown) => {
      // The response could not be written (the client went away): nothing is left to answer.
      logger.debug(`${route.method.parent.typeName}/${route.method.name} over the web: ${String(error)}`);
    });
}

function addRoute(router: ConnectRouter, method: DescMethod, path: string, entry: RpcHandler): void {
  const encode = (message: MessageShape<DescMessage>): Buffer => Buffer.from(toBinary(method.input, message));
  const decode = (bytes: Buffer): MessageShape<DescMessage> => fromBinary(method.output, bytes);
  const start = (request: Buffer, context: HandlerContext): ConnectEsCall =>
    new ConnectEsCall(path, request, context, context.values.get(PEER));
  switch (entry.type) {
    case 'unary':
      router.rpc(method as DescMethod & { methodKind: 'unary' }, async (request, context) => {
        const call = start(encode(request), context);
        entry.handler(call.call, call.answer);
        return decode(await call.response());
      });
      break;
    case 'serverStream':
      router.rpc(method as DescMethod & { methodKind: 'server_streaming' }, async function* (request, context) {
        const call = start(encode(request), context);
        entry.handler(call.call);
        for await (const bytes of call.messages()) yield decode(bytes);
      });
      break;
    case 'clientStream':
      router.rpc(method as DescMethod & { methodKind: 'client_streaming' }, async (requests, context) => {
        const call = start(EMPTY, context);
        entry.handler(call.call, call.answer);
        void feed(call, requests, encode);
        return decode(await call.response());
      });
      break;
    case 'bidi':
      router.rpc(method as DescMethod & { methodKind: 'bidi_streaming' }, async function* (requests, context) {
        const call = start(EMPTY, context);
        entry.handler(call.call);
        void feed(call, requests, encode);
        for await (const bytes of call.messages()) yield decode(bytes);
      });
      break;
  }
}

/** Hands the client's request messages to the handler as it reads them, then half-closes. */
async function feed<T>(call: ConnectEsCall, requests: AsyncIterable<T>, encode: (message: T) => Buffer): Promise<void> {
  try {
    for await (const request of requests) {
      if (call.call.cancelled) return;
      await new Promise<void>((ack) => call.call.pushRequest(encode(request), ack));
    }
    call.call.endRequests();
  } catch (error) {
    // The client's stream broke (a malformed message, a reset): that is the call's status.
    call.fail(ConnectError.from(error));
  }
}

/**
 * connect-es reports a Connect request whose protobuf body does not decode as INTERNAL ("parse
 * binary: ..."); the client sent it, so it is INVALID_ARGUMENT (HTTP 400), as gRPC answers it.
 */
async function malformedAsInvalid(answer: UniversalServerResponse): Promise<UniversalServerResponse> {
  if (answer.status !== 500 || !answer.body || !answer.header?.get('content-type')?.startsWith('application/json')) return answer;
  const chunks: Uint8Array[] = [];
  for await (const chunk of answer.body) chunks.push(chunk);
  const bytes = Buffer.concat(chunks);
  const error = JSON.parse(bytes.toString()) as { code?: string; message?: string };
  const malformed = error.code === 'internal' && error.message?.startsWith('parse binary: ');
  const body = malformed ? Buffer.from(JSON.stringify({ ...error, code: 'invalid_argument' })) : bytes;
  const header = new Headers(answer.header);
  header.set('content-length', String(body.length));
  return { ...answer, status: malformed ? 400 : answer.status, header, body: once(body) };
}

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}
