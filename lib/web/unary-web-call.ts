import { Metadata, status, StatusObject } from '@grpc/grpc-js';
import { STATUS_DETAILS_KEY } from '../errors/status-details';
import { BridgedServerCall, CallPeer, CallSink, statusOfError } from '../transport/bridged-server-call';
import type { WebRequest, WebResponse } from '../interfaces/grpc-web-options.interface';
import { isJson, mustCloseConnection, readWebCall, WebCallRequest, WebProtocol } from './web-call-request';
import { plainHeadersOf } from './web-metadata';
import { messageFrame } from '../proto/message-frames';
import { CONNECT_HTTP_STATUS, connectErrorJson, GRPC_WEB_CONTENT_TYPES, grpcWebTrailers } from './web-protocol';
import type { WebMethod } from './web-methods';

/** Answers one unary call over Connect or gRPC-Web with the rpc's handler (see `WebProtocol`). */
export function serveUnaryWebCall(
  target: WebMethod,
  protocol: WebProtocol,
  request: WebRequest,
  response: WebResponse,
  maxRequestBytes: number,
  peer: CallPeer,
): void {
  readWebCall(target, protocol, request, maxRequestBytes).then(
    (call) => {
      const answer: UnaryAnswer = (headers, outcome, message) => respond(target, protocol, request, response, headers, outcome, message);
      if ('code' in call) answer(undefined, call);
      else invokeUnary(target, call, peer, response, answer);
    },
    () => response.destroy(),
  );
}

/** Where a unary handler's answer goes: the headers it sent first, its status, its response when OK. */
export type UnaryAnswer = (headers: Metadata | undefined, outcome: StatusObject, message?: Buffer) => void;

/** Runs a unary rpc's handler on a web call; a client that goes away first cancels it. */
export function invokeUnary(target: WebMethod, call: WebCallRequest, peer: CallPeer, response: WebResponse, answer: UnaryAnswer): void {
  if (target.entry.type !== 'unary') return;
  let headers: Metadata | undefined;
  let answered = false;
  // A unary handler answers through its callback; the sink only takes the headers it sends first.
  const sink: CallSink = {
    headers: (sent) => (headers ??= sent ?? new Metadata()),
    message: () => undefined,
    status: () => undefined,
    hasRoom: () => true,
  };
  const serverCall = new BridgedServerCall(call.message, call.metadata, call.deadline, target.path, sink, peer);
  response.once('close', () => answered || serverCall.cancel());
  target.entry.handler(serverCall, (error, value, trailers) => {
    if (answered) return;
    answered = true;
    if (error) answer(headers, statusOfError(error));
    else answer(headers, { code: status.OK, details: '', metadata: trailers ?? new Metadata() }, value ?? Buffer.alloc(0));
  });
}

/** Writes the answer the protocol's way: a Connect unary response or error, or gRPC-Web frames with the status in trailers. */
function respond(
  target: WebMethod,
  protocol: WebProtocol,
  request: WebRequest,
  response: WebResponse,
  headers: Metadata | undefined,
  outcome: StatusObject,
  message?: Buffer,
): void {
  if (response.headersSent || response.destroyed) return;
  const out = headers ? plainHeadersOf(headers) : {};
  if (mustCloseConnection(request)) out.connection = 'close';
  let httpStatus = 200;
  let body: Buffer;
  let encoded = message && (isJson(protocol) ? target.json.toJson(target.output, message) : message);
  if (encoded instanceof Error) {
    outcome = { code: status.INTERNAL, details: encoded.message, metadata: new Metadata() };
    encoded = undefined;
  }
  if (protocol === 'connect-proto' || protocol === 'connect-json') {
    for (const [key, value] of Object.entries(plainHeadersOf(outcome.metadata, STATUS_DETAILS_KEY))) out[`trailer-${key}`] = value;
    if (outcome.code === status.OK && encoded) {
      out['content-type'] = protocol === 'connect-proto' ? 'application/proto' : 'application/json';
      body = encoded;
    } else {
      httpStatus = CONNECT_HTTP_STATUS[outcome.code] ?? 500;
      out['content-type'] = 'application/json';
      body = Buffer.from(JSON.stringify(connectErrorJson(outcome)));
    }
  } else {
    out['content-type'] = GRPC_WEB_CONTENT_TYPES[protocol];
    body =
      outcome.code === status.OK && encoded
        ? Buffer.concat([messageFrame(0, encoded), grpcWebTrailers(outcome)])
        : grpcWebTrailers(outcome);
    if (protocol === 'grpc-web-text') body = Buffer.from(body.toString('base64'), 'latin1');
  }
  out['content-length'] = String(body.length);
  response.writeHead(httpStatus, out);
  response.end(body);
}
