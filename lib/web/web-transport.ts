import { Logger } from '@nestjs/common';
import type { HttpRule } from '../proto/http-rules';
import type { ProtoRegistry } from '../proto/proto-registry';
import type { RpcHandler } from '../call/call-port';
import type { GrpcWebOptions } from '../interfaces/grpc-framework-options.interface';
import { Cors } from './cors';
import type { WebRequest, WebResponse } from '../interfaces/grpc-web-options.interface';
import { HttpRoutes, serveHttpCall } from './http-transcoding';
import { connectEsRoutes, serveWithConnectEs } from './connect-es-routes';
import { serveStreamWebCall } from './stream-web-call';
import { serveUnaryWebCall } from './unary-web-call';
import { webProtocolOf } from './web-call-request';
import { webMethods } from './web-methods';
import { keepDuplicateCredentials } from '../transport/duplicate-credentials';
import { limitHttp2Body } from './http2-request-timeout';

const logger = new Logger('GrpcFramework');

export interface WebTransportLimits {
  /** Largest request message, in bytes (`maxReceiveMessageLength`): a larger body is refused before it is read whole. */
  maxRequestBytes: number;
  /** Largest response message, in bytes (`maxSendMessageLength`). */
  maxResponseBytes: number;
}

/**
 * The web address's request handler: CORS, then gRPC-Web (binary, JSON and text) and the
 * Connect protocol (binary and JSON) for every rpc the gRPC server serves, and HTTP/JSON routes
 * from `google.api.http` options, all answered by the same handlers. Native gRPC stays on the
 * gRPC address.
 */
export function webRequestHandler(
  registry: ProtoRegistry,
  handlers: ReadonlyMap<string, RpcHandler>,
  options: Pick<GrpcWebOptions, 'cors' | 'fallback'> & { requestTimeoutMs: number },
  limits: WebTransportLimits,
): (request: WebRequest, response: WebResponse) => void {
  const fallback = options.fallback ?? notFound;
  const methods = webMethods(registry, handlers);
  const routes = connectEsRoutes(methods, limits);
  const http = new HttpRoutes(methods.values(), httpRulesByPath(registry, methods.keys()));
  for (const path of http.unserved) {
    logger.warn(
      `${path.slice(1)} has a google.api.http option, but only unary rpcs are served as HTTP routes: call it over Connect or gRPC-Web on the web address.`,
    );
  }
  const corsHeaders = new Cors(options.cors, http.methods());
  return (request, response) => {
    keepDuplicateCredentials(request.headers, request.rawHeaders);
    if (corsHeaders.handle(request, response)) return;
    const path = request.url?.split('?', 1)[0] ?? '';
    const target = methods.get(path);
    const peer = { peer: `${request.socket.remoteAddress}:${request.socket.remotePort}` };
    if (!target) {
      const match = http.find(request.method, path);
      if (match) {
        limitHttp2Body(request, response, options.requestTimeoutMs);
        serveHttpCall(match, request, response, limits.maxRequestBytes, peer);
      } else fallback(request, response);
      return;
    }
    const kind = target.entry.type;
    if (kind === 'unary' || kind === 'serverStream') limitHttp2Body(request, response, options.requestTimeoutMs);
    const protocol = kind === 'unary' || kind === 'serverStream' ? webProtocolOf(request, kind === 'serverStream') : undefined;
    // Unary and server-streaming calls of one uncompressed message are the framework's own; connect-es takes the rest.
    if (protocol) {
      const serve = kind === 'unary' ? serveUnaryWebCall : serveStreamWebCall;
      serve(target, protocol, request, response, limits.maxRequestBytes, peer);
      return;
    }
    serveWithConnectEs(routes.get(path)!, request, response, peer);
  };
}

/** Each served rpc's `google.api.http` rules, by method path, reading each service once. */
function httpRulesByPath(registry: ProtoRegistry, paths: Iterable<string>): Map<string, HttpRule[]> {
  const services = new Set([...paths].map((path) => path.split('/')[1]));
  const rules = new Map<string, HttpRule[]>();
  for (const name of services) for (const rpc of registry.service(name)?.rpcs ?? []) rules.set(rpc.path, rpc.http);
  return rules;
}

function notFound(_request: WebRequest, response: WebResponse): void {
  response.writeHead(404);
  response.end();
}
