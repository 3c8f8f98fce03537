import { Metadata, status, StatusObject } from '@grpc/grpc-js';
import type { IncomingHttpHeaders } from 'node:http';
import type { WebRequest } from '../interfaces/grpc-web-options.interface';
import { metadataOfNodeHeaders } from './web-metadata';
import type { WebMethod } from './web-methods';
import { connectTimeoutMs, decodeBase64Text, grpcTimeoutMs, singleFrameMessage } from './web-protocol';

/**
 * The web protocols the framework answers itself: Connect unary (`application/proto`, `json`),
 * Connect server streaming (`application/connect+proto`, `+json`) and gRPC-Web (binary and
 * text), each a POST of one uncompressed message. connect-es answers the rest (client and bidi
 * streams, compressed bodies, GET): its general stream machinery costs a call several times
 * what the handler itself does, and the JSON mapping is done in one place.
 */
export type WebProtocol = 'connect-proto' | 'connect-json' | 'connect-stream-proto' | 'connect-stream-json' | 'grpc-web' | 'grpc-web-text';

const isConnect = (protocol: WebProtocol): boolean => protocol.startsWith('connect');

/** The call a web request makes: its message in the binary encoding handlers read, its metadata and deadline. */
export interface WebCallRequest {
  message: Buffer;
  metadata: Metadata;
  deadline: number;
}

const identity = (encoding: string | string[] | undefined): boolean => encoding === undefined || encoding === 'identity';

/** The protocol a request speaks for an rpc that streams responses or not, when the framework answers it. */
export function webProtocolOf(request: WebRequest, responseStream: boolean): WebProtocol | undefined {
  if (request.method !== 'POST') return undefined;
  const headers = request.headers;
  const type = headers['content-type']?.split(';', 1)[0].trim().toLowerCase();
  switch (type) {
    case 'application/proto':
      return !responseStream && identity(headers['content-encoding']) ? 'connect-proto' : undefined;
    case 'application/json':
      return !responseStream && identity(headers['content-encoding']) ? 'connect-json' : undefined;
    case 'application/connect+proto':
      return responseStream && identity(headers['connect-content-encoding']) ? 'connect-stream-proto' : undefined;
    case 'application/connect+json':
      return responseStream && identity(headers['connect-content-encoding']) ? 'connect-stream-json' : undefined;
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

/**
 * Reads a web call's request: the body (refused with RESOURCE_EXHAUSTED once it passes the
 * message limit, before it is read whole), its message, metadata and deadline; or the status
 * that refuses it.
 */
export async function readWebCall(
  target: WebMethod,
  protocol: WebProtocol,
  request: WebRequest,
  maxRequestBytes: number,
): Promise<WebCallRequest | StatusObject> {
  const body = await readBody(request, bodyLimit(protocol, maxRequestBytes));
  if (body === undefined) {
    return refusal(
      status.RESOURCE_EXHAUSTED,
      `The request body is larger than the server accepts (${maxRequestBytes} bytes, maxReceiveMessageLength).`,
    );
  }
  const message = requestMessage(target, protocol, body);
  if (message instanceof Error) return refusal(status.INVALID_ARGUMENT, message.message);
  const timeout = isConnect(protocol)
    ? connectTimeoutMs(header(request.headers, 'connect-timeout-ms'))
    : grpcTimeoutMs(header(request.headers, 'grpc-timeout'));
  if (timeout instanceof Error) return refusal(status.INVALID_ARGUMENT, timeout.message);
  return { message, metadata: metadataOfNodeHeaders(request.headers), deadline: timeout === undefined ? Infinity : Date.now() + timeout };
}

function refusal(code: status, details: string): StatusObject {
  return { code, details, metadata: new Metadata() };
}

/** The body's limit: the message's, plus a frame header, in base64 for gRPC-Web text; JSON is counted as it comes. */
function bodyLimit(protocol: WebProtocol, maxRequestBytes: number): number {
  if (protocol === 'grpc-web-text') return Math.ceil(((maxRequestBytes + 5) * 4) / 3) + 4;
  return protocol === 'connect-proto' || protocol === 'connect-json' ? maxRequestBytes : maxRequestBytes + 5;
}

/** The request's message in the binary encoding handlers read, or why the body is not one. */
function requestMessage(target: WebMethod, protocol: WebProtocol, body: Buffer): Buffer | Error {
  const input = target.method.input;
  switch (protocol) {
    case 'connect-proto':
      return body;
    case 'connect-json':
      return target.json.toBinary(input, body);
    case 'connect-stream-proto':
      return singleFrameMessage(body);
    case 'connect-stream-json': {
      const json = singleFrameMessage(body);
      return json instanceof Error ? json : target.json.toBinary(input, json);
    }
    case 'grpc-web':
      return singleFrameMessage(body);
    case 'grpc-web-text':
      return singleFrameMessage(Buffer.from(decodeBase64Text(body.toString('latin1'))));
  }
}

export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Whether the connection must close after this answer: an HTTP/1.1 request answered before its
 * body was read whole (refused as too large) still has the rest of that body on its way.
 */
export function mustCloseConnection(request: WebRequest): boolean {
  return !request.complete && request.httpVersionMajor === 1;
}

/** The whole body, or undefined once it passes `limit` bytes (it is not read further). */
export function readBody(request: WebRequest, limit: number): Promise<Buffer | undefined> {
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
