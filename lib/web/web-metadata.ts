import { Metadata } from '@grpc/grpc-js';
import type { IncomingHttpHeaders } from 'node:http';

/** A `-bin` header's value: base64 in either alphabet, padded or not (the gRPC and Connect specifications allow both). */
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

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
    // Not base64: the header is dropped, as grpc-js drops a value it cannot decode.
    if (BASE64.test(value)) metadata.add(key, Buffer.from(value, 'base64'));
  } else metadata.add(key, value);
}

/** A handler's metadata as Node response headers (`-bin` values as base64), leaving out `skip`. */
export function plainHeadersOf(metadata: Metadata, skip?: string): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const key of Object.keys(metadata.getMap())) {
    if (key === skip) continue;
    const values = metadata.get(key).map((value) => (typeof value === 'string' ? value : value.toString('base64').replace(/=+$/, '')));
    headers[key] = values.length === 1 ? values[0] : values;
  }
  return headers;
}
