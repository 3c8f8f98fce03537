import { webPeerOf } from './web-peer';
import { Logger } from '@nestjs/common';
import type { HttpRule } from '../proto/http-rules';
import type { ProtoRegistry } from '../proto/proto-registry';
import type { RpcHandler } from '../call/call-port';
import type { GrpcWebOptions } from '../interfaces/grpc-framework-options.interface';
import { Cors } from './cors';
import type { WebRequest, WebResponse } from '../interfaces/grpc-web-options.interface';
import { HttpRoutes, serveHttpCall } from './http-transcoding';
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
}

/**
 * The web address's request handler: CORS, then gRPC-Web (binary, JSON and text) and the
 * Connect protocol (binary and JSON, POST and GET) for every rpc the gRPC server serves, and
 * HTTP/JSON routes from `google.api.http` options, all answered by the same handlers, the
 * protocol picked here once per request (see `WebProtocol`). Native gRPC stays on the
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
    const peer = webPeerOf(request);
    if (!target) {
      const match = http.find(request.method, path);
      if (match) {
        limitHttp2Body(request, response, options.requestTimeoutMs);
        serveHttpCall(match, request, response, limits.maxRequestBytes, peer);
      } else fallback(request, response);
      return;
    }
    const protocol = webProtocolOf(request, target);
    if (!protocol) return unsupported(request, response);
    if (target.entry.type === 'unary' || target.entry.type === 'serverStream') limitHttp2Body(request, response, options.requestTimeoutMs);
    const serve = target.entry.type === 'unary' ? serveUnaryWebCall : serveStreamWebCall;
    serve(target, protocol, request, response, limits.maxRequestBytes, peer);
  };
}

/** Each served rpc's `google.api.http` rules, by method path, reading each service once. */
function httpRulesByPath(registry: ProtoRegistry, paths: Iterable<string>): Map<string, HttpRule[]> {
  const services = new Set([...paths].map((path) => path.split('/')[1]));
  const rules = new Map<string, HttpRule[]>();
  for (const name of services) for (const rpc of registry.service(name)?.rpcs ?? []) rules.set(rpc.path, rpc.http);
  return rules;
}

/** A request for a served rpc in a way it cannot be called: a GET of an rpc not declared free of side effects, or another content type. */
function unsupported(request: WebRequest, response: WebResponse): void {
  if (request.method === 'GET') response.writeHead(405, { allow: 'POST' });
  else response.writeHead(415);
  response.end();
}

function notFound(_request: WebRequest, response: WebResponse): void {
  response.writeHead(404);
  response.end();
}
