import { createConnectRouter, createContextValues } from '@connectrpc/connect';
import type { UniversalHandler, UniversalServerResponse } from '@connectrpc/connect/protocol';
import { compressionBrotli, compressionGzip, universalRequestFromNodeRequest, universalResponseToNodeResponse } from '@connectrpc/connect-node';
import { Logger } from '@nestjs/common';
import type { ProtoRegistry } from '../proto/proto-registry';
import type { InProcessHandler } from '../server/call-handlers';
import type { GrpcWebOptions } from '../interfaces/grpc-framework-options.interface';
import { Cors, WebRequest, WebResponse } from './cors';
import { HttpRoutes, serveHttpCall } from './http-transcoding';
import { serveStreamWebCall } from './stream-web-call';
import { serveUnaryWebCall } from './unary-web-call';
import { webProtocolOf } from './web-call-request';
import { PEER, webMethods, webRoutes } from './web-routes';

export interface WebTransportLimits {
  /** Largest request message, in bytes (`maxReceiveMessageLength`): a larger body is refused before it is read whole. */
  maxRequestBytes: number;
  /** Largest response message, in bytes (`maxSendMessageLength`). */
  maxResponseBytes: number;
}

const logger = new Logger('GrpcFramework');

/**
 * The web address's request handler: CORS, then gRPC-Web (binary, JSON and text) and the
 * Connect protocol (binary and JSON) for every rpc the gRPC server serves, and HTTP/JSON routes
 * from `google.api.http` options, all answered by the same handlers. Native gRPC stays on the
 * gRPC address.
 */
export function webRequestHandler(
  registry: ProtoRegistry,
  handlers: ReadonlyMap<string, InProcessHandler>,
  options: Pick<GrpcWebOptions, 'cors' | 'fallback'>,
  limits: WebTransportLimits,
): (request: WebRequest, response: WebResponse) => void {
  const fallback = options.fallback ?? notFound;
  const router = createConnectRouter({
    grpc: false,
    grpcWeb: true,
    connect: true,
    readMaxBytes: limits.maxRequestBytes,
    writeMaxBytes: limits.maxResponseBytes,
    acceptCompression: [compressionGzip, compressionBrotli],
    // The proto3 JSON mapping as protoc's: an unknown field is an error, not silently dropped;
    // every field is written, so a reader without the schema sees zeros and empty strings too.
    jsonOptions: { ignoreUnknownFields: false, alwaysEmitImplicit: true },
  });
  const methods = webMethods(registry, handlers);
  webRoutes(methods)(router);
  const httpRules = (path: string) => registry.service(path.split('/')[1])?.rpcs.find((rpc) => rpc.path === path)?.http ?? [];
  const http = new HttpRoutes(methods.values(), httpRules);
  const corsHeaders = new Cors(options.cors, http.methods());
  const routes = new Map<string, UniversalHandler>(router.handlers.map((handler) => [handler.requestPath, handler]));
  return (request, response) => {
    if (corsHeaders.handle(request, response)) return;
    const path = request.url?.split('?', 1)[0] ?? '';
    const route = routes.get(path);
    const peer = { peer: `${request.socket.remoteAddress}:${request.socket.remotePort}` };
    if (!route) {
      const match = http.find(request.method, path);
      if (match) serveHttpCall(match, request, response, limits.maxRequestBytes, peer);
      else fallback(request, response);
      return;
    }
    const target = methods.get(route.requestPath)!;
    const kind = target.entry.type;
    const protocol = kind === 'unary' || kind === 'serverStream' ? webProtocolOf(request, kind === 'serverStream') : undefined;
    if (protocol) {
      const serve = kind === 'unary' ? serveUnaryWebCall : serveStreamWebCall;
      serve(target, protocol, request, response, limits.maxRequestBytes, peer);
      return;
    }
    const universal = universalRequestFromNodeRequest(request, response, undefined, createContextValues().set(PEER, peer));
    route(universal)
      .then(malformedAsInvalid)
      .then((answer) => {
        // Answered before its body was read whole (refused as too large): the rest of the body
        // is still on its way, so an HTTP/1.1 connection cannot carry another request.
        if (!request.complete && request.httpVersionMajor === 1 && !response.headersSent) response.setHeader('connection', 'close');
        return universalResponseToNodeResponse(answer, response);
      })
      .catch((error: unknown) => {
        // The response could not be written (the client went away): nothing is left to answer.
        logger.debug(`${route.method.parent.typeName}/${route.method.name} over the web: ${String(error)}`);
      });
  };
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

function notFound(_request: WebRequest, response: WebResponse): void {
  response.writeHead(404);
  response.end();
}

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}
