import { fromBinary, fromJson, toBinary, toJson } from '@bufbuild/protobuf';
import type { JsonValue } from '@bufbuild/protobuf';
import { Metadata, ServerUnaryCall, ServiceError, status, StatusObject } from '@grpc/grpc-js';
import type { IncomingHttpHeaders } from 'node:http';
import { decodeStatusDetails, STATUS_DETAILS_KEY } from '../errors/status-details';
import { BridgedServerCall, CallPeer, CallSink, statusOfError } from '../server/bridged-server-call';
import type { WebRequest, WebResponse } from './cors';
import { decodeBase64Text } from './grpc-web-text';
import { metadataOfNodeHeaders, plainHeadersOf } from './web-metadata';
import { CONNECT_CODE_NAMES, CONNECT_HTTP_STATUS, connectTimeoutMs, grpcTimeoutMs, singleFrameMessage, webFrame } from './web-protocol';
import type { WebMethod } from './web-routes';

/** The unary protocols served here; anything else (streams, compression, GET) goes to connect-es. */
export type UnaryWebProtocol = 'connect-proto' | 'connect-json' | 'grpc-web' | 'grpc-web-text';

const JSON_WRITE = { alwaysEmitImplicit: true } as const;
const OK: StatusObject = { code: status.OK, details: '', metadata: new Metadata() };

/**
 * Which unary protocol a request speaks, when this path can answer it: a POST of one
 * uncompressed message. connect-es answers the rest; this path exists because its general
 * stream machinery costs a unary call several times what the handler itself does.
 */
export function unaryProtocolOf(request: WebRequest): UnaryWebProtocol | undefined {
  if (request.method !== 'POST') return undefined;
  const headers = request.headers;
  const type = headers['content-type']?.split(';', 1)[0].trim().toLowerCase();
  const identity = (encoding: string | string[] | undefined) => encoding === undefined || encoding === 'identity';
  switch (type) {
    case 'application/proto':
      return identity(headers['content-encoding']) ? 'connect-proto' : undefined;
    case 'application/json':
      return identity(headers['content-encoding']) ? 'connect-json' : undefined;
    case 'application/grpc-web':
    case 'application/grpc-web+proto':
      return identity(headers['grpc-encoding']) ? 'grpc-web' : undefined;
    case 'application/grpc-web-text':
    case 'application/grpc-web-text+proto':
      return identity(headers['grpc-encoding']) ? 'grpc-web-text' : undefined;
    default:
      return undefined;
  }
}

/** Answers one unary call over Connect or gRPC-Web with the rpc's handler. */
export function serveUnaryWebCall(target: WebMethod, protocol: UnaryWebProtocol, request: WebRequest, response: WebResponse, maxRequestBytes: number, peer: CallPeer): void {
  const connect = protocol === 'connect-proto' || protocol === 'connect-json';
  // The body's limit: the message's, plus a frame header, in base64 for gRPC-Web text.
  const limit = protocol === 'grpc-web-text' ? Math.ceil(((maxRequestBytes + 5) * 4) / 3) + 4 : protocol === 'connect-proto' ? maxRequestBytes : maxRequestBytes + 5;
  readBody(request, protocol === 'connect-json' ? maxRequestBytes : limit).then(
    (body) => {
      if (body === undefined) {
        const refusal = `The request body is larger than the server accepts (${maxRequestBytes} bytes, maxReceiveMessageLength).`;
        return respond(target, protocol, request, response, undefined, { code: status.RESOURCE_EXHAUSTED, details: refusal, metadata: new Metadata() });
      }
      const message = requestMessage(target, protocol, body);
      const timeout = connect ? connectTimeoutMs(header(request.headers, 'connect-timeout-ms')) : grpcTimeoutMs(header(request.headers, 'grpc-timeout'));
      const invalid = message instanceof Error ? message : timeout instanceof Error ? timeout : undefined;
      if (invalid) return respond(target, protocol, request, response, undefined, { code: status.INVALID_ARGUMENT, details: invalid.message, metadata: new Metadata() });
      const deadline = timeout === undefined ? Infinity : Date.now() + (timeout as number);
      run(target, protocol, request, response, message as Buffer, deadline, peer);
    },
    () => response.destroy(),
  );
}

function run(target: WebMethod, protocol: UnaryWebProtocol, request: WebRequest, response: WebResponse, message: Buffer, deadline: number, peer: CallPeer): void {
  let headers: Metadata | undefined;
  let answered = false;
  const sink: CallSink = {
    headers: (metadata) => (headers ??= metadata ?? new Metadata()),
    message: () => undefined,
    status: () => undefined,
    hasRoom: () => true,
  };
  const call = new BridgedServerCall(message, metadataOfNodeHeaders(request.headers), deadline, target.path, sink, peer);
  response.once('close', () => answered || call.cancel());
  if (target.entry.type !== 'unary') return;
  target.entry.handler(call as unknown as ServerUnaryCall<Buffer, Buffer>, (error: Partial<ServiceError> | null, value?: Buffer | null, trailers?: Metadata) => {
    if (answered) return;
    answered = true;
    const outcome = error ? statusOfError(error) : { ...OK, metadata: trailers ?? new Metadata() };
    respond(target, protocol, request, response, headers, outcome, error ? undefined : (value ?? Buffer.alloc(0)));
  });
}

/** The request's message in the binary encoding handlers read, or why the body is not one. */
function requestMessage(target: WebMethod, protocol: UnaryWebProtocol, body: Buffer): Buffer | Error {
  switch (protocol) {
    case 'connect-proto':
      return body;
    case 'connect-json': {
      try {
        const json = JSON.parse(body.length ? body.toString('utf8') : '{}') as JsonValue;
        return Buffer.from(toBinary(target.method.input, fromJson(target.method.input, json, { ignoreUnknownFields: false })));
      } catch (error) {
        return new Error(`The request is not valid JSON for ${target.method.input.typeName}: ${(error as Error).message}`);
      }
    }
    case 'grpc-web':
      return singleFrameMessage(body);
    case 'grpc-web-text':
      return singleFrameMessage(Buffer.from(decodeBase64Text(body.toString('latin1'))));
  }
}

/** Writes the answer the protocol's way: a Connect unary response or error, or gRPC-Web frames with the status in trailers. */
function respond(target: WebMethod, protocol: UnaryWebProtocol, request: WebRequest, response: WebResponse, headers: Metadata | undefined, outcome: StatusObject, message?: Buffer): void {
  if (response.headersSent || response.destroyed) return;
  const out = headers ? plainHeadersOf(headers) : {};
  // Answered before the body was read whole (too large): an HTTP/1.1 connection cannot carry another request.
  if (!request.complete && request.httpVersionMajor === 1) out.connection = 'close';
  let httpStatus = 200;
  let body: Buffer;
  if (protocol === 'connect-proto' || protocol === 'connect-json') {
    for (const [key, value] of Object.entries(plainHeadersOf(outcome.metadata, STATUS_DETAILS_KEY))) out[`trailer-${key}`] = value;
    let encoded = message && (protocol === 'connect-proto' ? message : responseJson(target, message));
    if (encoded instanceof Error) {
      outcome = { code: status.INTERNAL, details: encoded.message, metadata: new Metadata() };
      encoded = undefined;
    }
    if (outcome.code === status.OK && encoded) {
      out['content-type'] = protocol === 'connect-proto' ? 'application/proto' : 'application/json';
      body = encoded;
    } else {
      httpStatus = CONNECT_HTTP_STATUS[outcome.code] ?? 500;
      out['content-type'] = 'application/json';
      body = Buffer.from(JSON.stringify(connectErrorJson(outcome)));
    }
  } else {
    out['content-type'] = protocol === 'grpc-web-text' ? 'application/grpc-web-text+proto' : 'application/grpc-web+proto';
    const trailers = webFrame(0x80, Buffer.from(trailerBlock(outcome)));
    body = outcome.code === status.OK && message ? Buffer.concat([webFrame(0, message), trailers]) : trailers;
    if (protocol === 'grpc-web-text') body = Buffer.from(body.toString('base64'), 'latin1');
  }
  out['content-length'] = String(body.length);
  response.writeHead(httpStatus, out);
  response.end(body);
}

function responseJson(target: WebMethod, message: Buffer): Buffer | Error {
  try {
    return Buffer.from(JSON.stringify(toJson(target.method.output, fromBinary(target.method.output, message), JSON_WRITE)));
  } catch (error) {
    return new Error(`The response could not be written as JSON: ${(error as Error).message}`);
  }
}

/** Connect's JSON error: its code name, message and details (each `google.rpc.BadRequest` readable in `debug`). */
function connectErrorJson(outcome: StatusObject): Record<string, unknown> {
  const json: Record<string, unknown> = { code: CONNECT_CODE_NAMES[outcome.code] ?? 'unknown' };
  if (outcome.details) json.message = outcome.details;
  const details = outcome.metadata.get(STATUS_DETAILS_KEY)[0];
  if (details instanceof Buffer) {
    json.details = decodeStatusDetails(details).map(({ type, value, debug }) => ({
      type,
      value: Buffer.from(value).toString('base64').replace(/=+$/, ''),
      ...(debug ? { debug } : {}),
    }));
  }
  return json;
}

/** gRPC-Web's trailers: the status, its message percent-encoded, then the handler's trailing metadata (rich details included). */
function trailerBlock(outcome: StatusObject): string {
  let block = `grpc-status: ${outcome.code}\r\ngrpc-message: ${encodeURIComponent(outcome.details)}\r\n`;
  for (const [key, value] of Object.entries(plainHeadersOf(outcome.metadata))) {
    for (const one of ([] as string[]).concat(value)) block += `${key}: ${one}\r\n`;
  }
  return block;
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The whole body, or undefined once it passes `limit` bytes (refused before it is read whole). */
function readBody(request: WebRequest, limit: number): Promise<Buffer | undefined> {
  const declared = Number(request.headers['content-length'] ?? NaN);
  if (declared > limit) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        request.off('data', onData);
        request.pause();
        resolve(undefined);
      } else chunks.push(chunk);
    };
    request.on('data', onData);
    request.once('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size)));
    request.once('error', reject);
  });
}
