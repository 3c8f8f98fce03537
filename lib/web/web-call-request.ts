import { Metadata, status, StatusObject } from '@grpc/grpc-js';
import type { IncomingHttpHeaders } from 'node:http';
import type { WebRequest } from '../interfaces/grpc-web-options.interface';
import { ACCEPTED_ENCODINGS, BodyEncoding, bodyEncodingOf, DecompressionError, decompress } from './body-compression';
import type { Envelope } from './request-envelopes';
import { metadataOfNodeHeaders } from './web-metadata';
import type { WebMethod } from './web-methods';
import { connectTimeoutMs, decodeBase64Text, grpcTimeoutMs, singleFrame } from './web-protocol';

/**
 * The web protocols the web address answers, every one by the framework's own handlers:
 * Connect unary (`application/proto`, `json`, POST or GET), Connect streaming
 * (`application/connect+proto`, `+json`: server, client and bidi streams) and gRPC-Web (binary,
 * JSON and, for one request message, text), with gzip or brotli request bodies.
 */
export type WebProtocol =
  'connect-proto' | 'connect-json' | 'connect-stream-proto' | 'connect-stream-json' | 'grpc-web' | 'grpc-web-json' | 'grpc-web-text';

export const isConnect = (protocol: WebProtocol): boolean => protocol.startsWith('connect');
/** Whether the protocol carries messages as JSON (proto3's JSON mapping) rather than binary. */
export const isJson = (protocol: WebProtocol): boolean => protocol.endsWith('json');
/** Whether the request body is one message without a frame (Connect unary). */
const isUnframed = (protocol: WebProtocol): boolean => protocol === 'connect-proto' || protocol === 'connect-json';

/** The call a web request makes: its message in the binary encoding handlers read, its metadata and deadline. */
export interface WebCallRequest {
  message: Buffer;
  metadata: Metadata;
  deadline: number;
}

/** A web call's metadata and deadline, from its headers. */
export type WebCallHeaders = Omit<WebCallRequest, 'message'>;

/**
 * The protocol a request speaks to an rpc, or undefined when the rpc cannot be called that way
 * (answered 415, or 405 for a GET). GET is Connect's way to call a unary rpc declared
 * `option idempotency_level = NO_SIDE_EFFECTS`, as connect-es and the Connect specification say.
 */
export function webProtocolOf(request: WebRequest, target: WebMethod): WebProtocol | undefined {
  const kind = target.entry.type;
  if (request.method === 'GET') {
    if (kind !== 'unary' || !target.noSideEffects) return undefined;
    const encoding = queryOf(request).get('encoding');
    return encoding === 'proto' ? 'connect-proto' : encoding === 'json' ? 'connect-json' : undefined;
  }
  if (request.method !== 'POST') return undefined;
  switch (request.headers['content-type']?.split(';', 1)[0].trim().toLowerCase()) {
    case 'application/proto':
      return kind === 'unary' ? 'connect-proto' : undefined;
    case 'application/json':
      return kind === 'unary' ? 'connect-json' : undefined;
    case 'application/connect+proto':
      return kind === 'unary' ? undefined : 'connect-stream-proto';
    case 'application/connect+json':
      return kind === 'unary' ? undefined : 'connect-stream-json';
    case 'application/grpc-web':
    case 'application/grpc-web+proto':
      return 'grpc-web';
    case 'application/grpc-web+json':
      return 'grpc-web-json';
    case 'application/grpc-web-text':
    case 'application/grpc-web-text+proto':
      // Base64 request bodies come from browsers, which send one message.
      return kind === 'unary' || kind === 'serverStream' ? 'grpc-web-text' : undefined;
    default:
      return undefined;
  }
}

/** The compression of the request's messages, or the refusal of one the server does not read. */
export function requestEncoding(protocol: WebProtocol, request: WebRequest): BodyEncoding | StatusObject {
  const name =
    request.method === 'GET'
      ? (queryOf(request).get('compression') ?? undefined)
      : header(
          request.headers,
          isUnframed(protocol) ? 'content-encoding' : isConnect(protocol) ? 'connect-content-encoding' : 'grpc-encoding',
        );
  const encoding = bodyEncodingOf(name);
  if (encoding) return encoding;
  return refusal(
    status.UNIMPLEMENTED,
    `The request is compressed with "${name}", which the server does not read: send ${ACCEPTED_ENCODINGS} or identity.`,
  );
}

/** The request's metadata and deadline, or the refusal of a malformed timeout. */
export function webCallHeaders(protocol: WebProtocol, request: WebRequest): WebCallHeaders | StatusObject {
  const timeout = isConnect(protocol)
    ? connectTimeoutMs(header(request.headers, 'connect-timeout-ms'))
    : grpcTimeoutMs(header(request.headers, 'grpc-timeout'));
  if (timeout instanceof Error) return refusal(status.INVALID_ARGUMENT, timeout.message);
  return { metadata: metadataOfNodeHeaders(request.headers), deadline: timeout === undefined ? Infinity : Date.now() + timeout };
}

/**
 * Reads a web call of one request message: the body (refused with RESOURCE_EXHAUSTED once it
 * passes the message limit, before it is read whole), its message, metadata and deadline; or
 * the status that refuses it.
 */
export async function readWebCall(
  target: WebMethod,
  protocol: WebProtocol,
  request: WebRequest,
  maxRequestBytes: number,
): Promise<WebCallRequest | StatusObject> {
  const body = request.method === 'GET' ? getRequestBody(request) : await readBody(request, bodyLimit(protocol, maxRequestBytes));
  if (body === undefined) return tooLarge(maxRequestBytes);
  const headers = webCallHeaders(protocol, request);
  if ('code' in headers) return headers;
  const encoding = requestEncoding(protocol, request);
  if (typeof encoding !== 'string') return encoding;
  let envelope: Envelope | Error;
  if (isUnframed(protocol)) envelope = { flags: encoding === 'identity' ? 0 : 1, data: body };
  else envelope = singleFrame(protocol === 'grpc-web-text' ? Buffer.from(decodeBase64Text(body.toString('latin1'))) : body);
  if (envelope instanceof Error) return refusal(status.INVALID_ARGUMENT, envelope.message);
  const message = await messageOfEnvelope(target, protocol, encoding, envelope, maxRequestBytes);
  return 'code' in message ? message : { ...headers, message };
}

/** A request envelope's message in the binary encoding handlers read, or the status that refuses it. */
export async function messageOfEnvelope(
  target: WebMethod,
  protocol: WebProtocol,
  encoding: BodyEncoding,
  envelope: Envelope,
  maxRequestBytes: number,
): Promise<Buffer | StatusObject> {
  if (envelope.flags & ~1) return refusal(status.INVALID_ARGUMENT, `A request frame has flags ${envelope.flags}, not a message.`);
  let data = envelope.data;
  if (envelope.flags & 1) {
    if (encoding === 'identity')
      return refusal(status.INVALID_ARGUMENT, 'A request message is compressed, but the request does not say with what (grpc-encoding).');
    try {
      data = await decompress(encoding, data, maxRequestBytes);
    } catch (error) {
      if (!(error instanceof DecompressionError)) throw error;
      return refusal(error.tooLarge ? status.RESOURCE_EXHAUSTED : status.INVALID_ARGUMENT, error.message);
    }
  }
  if (!isJson(protocol)) return data;
  const binary = target.json.toBinary(target.input, data);
  return binary instanceof Error ? refusal(status.INVALID_ARGUMENT, binary.message) : binary;
}

export function refusal(code: status, details: string): StatusObject {
  return { code, details, metadata: new Metadata() };
}

export function tooLarge(maxRequestBytes: number): StatusObject {
  return refusal(
    status.RESOURCE_EXHAUSTED,
    `The request body is larger than the server accepts (${maxRequestBytes} bytes, maxReceiveMessageLength).`,
  );
}

/** The body's limit: the message's, plus a frame header, in base64 for gRPC-Web text; JSON is counted as it comes. */
function bodyLimit(protocol: WebProtocol, maxRequestBytes: number): number {
  if (protocol === 'grpc-web-text') return Math.ceil(((maxRequestBytes + 5) * 4) / 3) + 4;
  return isUnframed(protocol) ? maxRequestBytes : maxRequestBytes + 5;
}

function queryOf(request: WebRequest): URLSearchParams {
  const url = request.url ?? '';
  const at = url.indexOf('?');
  return new URLSearchParams(at < 0 ? '' : url.slice(at + 1));
}

/** A Connect GET's message, from its query: base64url when `base64=1` (always when compressed), else the text itself. */
function getRequestBody(request: WebRequest): Buffer {
  const query = queryOf(request);
  const message = query.get('message') ?? '';
  return query.get('base64') === '1' ? Buffer.from(message, 'base64url') : Buffer.from(message, 'utf8');
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
