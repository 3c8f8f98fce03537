import { status as grpcStatus } from '@grpc/grpc-js';
import type { StatusObject } from '@grpc/grpc-js';
import { decodeStatusDetails, STATUS_DETAILS_KEY } from '../errors/status-details';
import { messageFrame } from '../proto/message-frames';
import type { Envelope } from './request-envelopes';
import { plainHeadersOf } from './web-metadata';

// What the Connect and gRPC-Web specifications fix for unary and server-streaming calls, written out once:
// https://connectrpc.com/docs/protocol and https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-WEB.md

/** Connect's name of each gRPC status code (the snake_case of its enum name). */
const CONNECT_CODE_NAMES: Readonly<Record<number, string>> = {
  [grpcStatus.CANCELLED]: 'canceled',
  [grpcStatus.UNKNOWN]: 'unknown',
  [grpcStatus.INVALID_ARGUMENT]: 'invalid_argument',
  [grpcStatus.DEADLINE_EXCEEDED]: 'deadline_exceeded',
  [grpcStatus.NOT_FOUND]: 'not_found',
  [grpcStatus.ALREADY_EXISTS]: 'already_exists',
  [grpcStatus.PERMISSION_DENIED]: 'permission_denied',
  [grpcStatus.RESOURCE_EXHAUSTED]: 'resource_exhausted',
  [grpcStatus.FAILED_PRECONDITION]: 'failed_precondition',
  [grpcStatus.ABORTED]: 'aborted',
  [grpcStatus.OUT_OF_RANGE]: 'out_of_range',
  [grpcStatus.UNIMPLEMENTED]: 'unimplemented',
  [grpcStatus.INTERNAL]: 'internal',
  [grpcStatus.UNAVAILABLE]: 'unavailable',
  [grpcStatus.DATA_LOSS]: 'data_loss',
  [grpcStatus.UNAUTHENTICATED]: 'unauthenticated',
};

/** The HTTP status of a Connect unary error, by gRPC status code. */
export const CONNECT_HTTP_STATUS: Readonly<Record<number, number>> = {
  [grpcStatus.CANCELLED]: 499,
  [grpcStatus.UNKNOWN]: 500,
  [grpcStatus.INVALID_ARGUMENT]: 400,
  [grpcStatus.DEADLINE_EXCEEDED]: 504,
  [grpcStatus.NOT_FOUND]: 404,
  [grpcStatus.ALREADY_EXISTS]: 409,
  [grpcStatus.PERMISSION_DENIED]: 403,
  [grpcStatus.RESOURCE_EXHAUSTED]: 429,
  [grpcStatus.FAILED_PRECONDITION]: 400,
  [grpcStatus.ABORTED]: 409,
  [grpcStatus.OUT_OF_RANGE]: 400,
  [grpcStatus.UNIMPLEMENTED]: 501,
  [grpcStatus.INTERNAL]: 500,
  [grpcStatus.UNAVAILABLE]: 503,
  [grpcStatus.DATA_LOSS]: 500,
  [grpcStatus.UNAUTHENTICATED]: 401,
};

/** The response content type of each gRPC-Web protocol. */
export const GRPC_WEB_CONTENT_TYPES: Readonly<Record<string, string>> = {
  'grpc-web': 'application/grpc-web+proto',
  'grpc-web-json': 'application/grpc-web+json',
  'grpc-web-text': 'application/grpc-web-text+proto',
};

/** `connect-timeout-ms`: up to 10 digits of milliseconds. */
export function connectTimeoutMs(header: string | undefined): number | undefined | Error {
  if (header === undefined) return undefined;
  if (!/^\d{1,10}$/.test(header)) return new Error(`connect-timeout-ms must be 1 to 10 digits, not "${header}"`);
  return Number(header);
}

const GRPC_TIMEOUT_UNITS: Readonly<Record<string, number>> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };

/** `grpc-timeout`: up to 8 digits and a unit (H, M, S, m, u, n). */
export function grpcTimeoutMs(header: string | undefined): number | undefined | Error {
  if (header === undefined) return undefined;
  const match = /^(\d{1,8})([HMSmun])$/.exec(header);
  if (!match) return new Error(`grpc-timeout must be up to 8 digits and a unit, not "${header}"`);
  return Number(match[1]) * GRPC_TIMEOUT_UNITS[match[2]];
}

/** The one frame of a request body that holds one message, or why the body is not one frame. */
export function singleFrame(body: Buffer): Envelope | Error {
  if (body.length < 5) return new Error(`the request body holds ${body.length} bytes, not a gRPC-Web frame`);
  const length = body.readUInt32BE(1);
  if (body.length !== 5 + length)
    return new Error(`the request body holds ${body.length - 5} bytes after its frame header, not the ${length} it announces`);
  return { flags: body[0], data: body.subarray(5) };
}

/** Connect's JSON error: its code name, message and details (each `google.rpc.BadRequest` readable in `debug`). */
export function connectErrorJson(outcome: StatusObject): Record<string, unknown> {
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

/** The end of a Connect stream (flags 0x02): the error, if the call failed, and the trailing metadata. */
export function connectEndStream(outcome: StatusObject): Buffer {
  const end: Record<string, unknown> = {};
  if (outcome.code !== grpcStatus.OK) end.error = connectErrorJson(outcome);
  const trailers = plainHeadersOf(outcome.metadata, STATUS_DETAILS_KEY);
  if (Object.keys(trailers).length)
    end.metadata = Object.fromEntries(Object.entries(trailers).map(([key, value]) => [key, ([] as string[]).concat(value)]));
  return messageFrame(0x02, Buffer.from(JSON.stringify(end)));
}

/** gRPC-Web's trailer frame: the status, its message percent-encoded, then the trailing metadata (rich details included). */
export function grpcWebTrailers(outcome: StatusObject): Buffer {
  let block = `grpc-status: ${outcome.code}\r\ngrpc-message: ${encodeURIComponent(outcome.details)}\r\n`;
  for (const [key, value] of Object.entries(plainHeadersOf(outcome.metadata))) {
    for (const one of ([] as string[]).concat(value)) block += `${key}: ${one}\r\n`;
  }
  return messageFrame(0x80, Buffer.from(block));
}

/**
 * gRPC-Web text (`application/grpc-web-text`) is binary gRPC-Web's frames in base64, for
 * browsers that cannot stream binary bodies; a request may hold several padded segments one
 * after another (as clients and Envoy write them), each decoded on its own.
 */
export function decodeBase64Text(text: string): Uint8Array {
  const compact = text.replace(/\s+/g, '');
  // Buffer's decoder stops at a segment's '=' padding.
  if (!compact.includes('=')) return Buffer.from(compact, 'base64');
  return Buffer.concat(compact.match(/[^=]+=*/g)!.map((segment) => Buffer.from(segment, 'base64')));
}
