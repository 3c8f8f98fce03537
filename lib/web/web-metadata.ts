import { decodeBinaryHeader, encodeBinaryHeader } from '@connectrpc/connect';
import { Metadata } from '@grpc/grpc-js';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * Request headers that belong to HTTP or to the web protocols themselves, not to the call's
 * metadata (grpc-js keeps the same ones out of a native call's metadata).
 */
const PROTOCOL_HEADERS = new Set([
  'accept',
  'accept-encoding',
  'connection',
  'content-encoding',
  'content-length',
  'content-type',
  'host',
  'keep-alive',
  'origin',
  'referer',
  'te',
  'transfer-encoding',
  'upgrade',
  'grpc-timeout',
  'grpc-encoding',
  'grpc-accept-encoding',
  'x-grpc-web',
  'connect-protocol-version',
  'connect-timeout-ms',
  'connect-content-encoding',
  'connect-accept-encoding',
]);

/** gRPC metadata keys: lowercase letters, digits, `_`, `-` and `.` (grpc-js refuses others). */
const METADATA_KEY = /^[0-9a-z_.-]+$/;

/** A web request's headers as the metadata a framework handler reads (`-bin` values decoded from base64). */
export function metadataOfHeaders(headers: Headers): Metadata {
  const metadata = new Metadata();
  headers.forEach((value, key) => addHeader(metadata, key, value));
  return metadata;
}

/** The same, from Node's header object. */
export function metadataOfNodeHeaders(headers: IncomingHttpHeaders): Metadata {
  const metadata = new Metadata();
  for (const key in headers) {
    const value = headers[key];
    if (typeof value === 'string') addHeader(metadata, key, value);
    else if (value) for (const one of value) addHeader(metadata, key, one);
  }
  return metadata;
}

function addHeader(metadata: Metadata, key: string, value: string): void {
  if (PROTOCOL_HEADERS.has(key) || key.startsWith('sec-') || key.startsWith('access-control-') || !METADATA_KEY.test(key)) return;
  if (key.endsWith('-bin')) {
    try {
      metadata.add(key, Buffer.from(decodeBinaryHeader(value)));
    } catch {
      // Not base64: the header is dropped, as grpc-js drops a value it cannot decode.
    }
  } else metadata.add(key, value);
}

/** A handler's metadata as Node response headers (`-bin` values as base64), leaving out `skip`. */
export function plainHeadersOf(metadata: Metadata, skip?: string): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const key of Object.keys(metadata.getMap())) {
    if (key === skip) continue;
    const values = metadata.get(key).map((value) => (typeof value === 'string' ? value : encodeBinaryHeader(value)));
    headers[key] = values.length === 1 ? values[0] : values;
  }
  return headers;
}

/** Copies a handler's metadata into response headers or trailers (`-bin` values as base64), leaving out `skip`. */
export function headersOfMetadata(metadata: Metadata, into: Headers, skip?: string): void {
  for (const [key, value] of Object.entries(plainHeadersOf(metadata, skip))) {
    for (const one of ([] as string[]).concat(value)) into.append(key, one);
  }
}
