import type { UniversalServerRequest, UniversalServerResponse } from '@connectrpc/connect/protocol';

/**
 * gRPC-Web's text mode (`application/grpc-web-text`), which connect-es does not speak: the same
 * frames as binary gRPC-Web, base64-encoded, for browsers that cannot stream binary bodies. A
 * text request is handed to Connect as binary gRPC-Web and its answer encoded back.
 */
const TEXT_CONTENT_TYPE = /^application\/grpc-web-text(?:\+proto)?(?:;|$)/i;

export function isGrpcWebText(contentType: string | null | undefined): boolean {
  return !!contentType && TEXT_CONTENT_TYPE.test(contentType);
}

/** The request as binary gRPC-Web: its body decoded from base64 as it arrives. */
export function grpcWebTextRequest(request: UniversalServerRequest): UniversalServerRequest {
  const header = new Headers(request.header);
  header.set('content-type', 'application/grpc-web+proto');
  // The length of the base64 text is not the frames' length: the limit is checked as they are decoded.
  header.delete('content-length');
  return { ...request, header, body: decodeBase64Stream(request.body as AsyncIterable<Uint8Array>) };
}

/** The answer as text: every chunk Connect writes goes out as padded base64 (clients decode each in turn, as from Envoy). */
export function grpcWebTextResponse(response: UniversalServerResponse): UniversalServerResponse {
  const header = new Headers(response.header);
  const contentType = header.get('content-type');
  if (contentType?.startsWith('application/grpc-web')) header.set('content-type', 'application/grpc-web-text+proto');
  header.delete('content-length');
  return { ...response, header, body: response.body && encodeBase64Stream(response.body) };
}

async function* decodeBase64Stream(chunks: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  let carry = '';
  for await (const chunk of chunks) {
    // Padded segments may follow one another; each is decoded whole.
    const text = carry + Buffer.from(chunk).toString('latin1').replace(/\s+/g, '');
    const usable = text.length - (text.length % 4);
    carry = text.slice(usable);
    if (usable) yield decodeSegments(text.slice(0, usable));
  }
  if (carry) yield decodeSegments(carry);
}

/** Base64 text that may hold several padded segments, one after another, decoded. */
export function decodeBase64Text(text: string): Uint8Array {
  return decodeSegments(text.replace(/\s+/g, ''));
}

function decodeSegments(text: string): Uint8Array {
  // A '=' ends one padded segment; Buffer's decoder would stop there, so each is decoded alone.
  if (!text.includes('=')) return Buffer.from(text, 'base64');
  const segments = text.match(/[^=]*=*/g)!.filter(Boolean);
  return Buffer.concat(segments.map((segment) => Buffer.from(segment, 'base64')));
}

async function* encodeBase64Stream(chunks: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  for await (const chunk of chunks) yield Buffer.from(Buffer.from(chunk).toString('base64'), 'latin1');
}
