import { create, createFileRegistry, fromBinary } from '@bufbuild/protobuf';
import type { DescService, FileRegistry } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { createClient } from '@connectrpc/connect';
import type { CallOptions, Transport } from '@connectrpc/connect';
import { createConnectTransport, createGrpcWebTransport } from '@connectrpc/connect-node';
import type { GrpcFrameworkServer, ProtoRegistry } from 'nestjs-grpc-framework';

/** The ways a web client can call the web address. */
export const WEB_PROTOCOLS = ['connect+json', 'connect+proto', 'grpc-web+proto', 'grpc-web+json'] as const;
export type WebProtocol = (typeof WEB_PROTOCOLS)[number];

/** The server's protos as @bufbuild/protobuf descriptors, the way a client generated from them sees them. */
export function webSchemas(server: GrpcFrameworkServer): FileRegistry {
  return descriptorPool(server.registry);
}

/** A registry's files in @bufbuild/protobuf's validating descriptor pool (it refuses a file whose imports or types are missing). */
export function descriptorPool(registry: ProtoRegistry): FileRegistry {
  const files = registry.fileDescriptors().map((file) => fromBinary(FileDescriptorProtoSchema, file.bytes));
  return createFileRegistry(create(FileDescriptorSetSchema, { file: files }));
}

export function webTransport(baseUrl: string, protocol: WebProtocol, httpVersion: '1.1' | '2' = '1.1'): Transport {
  const useBinaryFormat = protocol.endsWith('+proto');
  return protocol.startsWith('connect')
    ? createConnectTransport({ baseUrl, httpVersion, useBinaryFormat })
    : createGrpcWebTransport({ baseUrl, httpVersion, useBinaryFormat });
}

/**
 * A loosely typed Connect client: a method per rpc (lowerCamelCase), messages with lowerCamelCase
 * fields; unary methods return a promise, streaming ones an async iterable.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type WebClient = Record<string, (request: any, options?: CallOptions) => any>;

export function webClient(
  server: GrpcFrameworkServer,
  service: string,
  protocol: WebProtocol,
  httpVersion: '1.1' | '2' = '1.1',
): WebClient {
  const desc: DescService | undefined = webSchemas(server).getService(service);
  if (!desc) throw new Error(`no service ${service}`);
  return createClient(desc, webTransport(`http://${server.webAddress!}`, protocol, httpVersion)) as unknown as WebClient;
}

/** POSTs a Connect JSON call, as curl would; resolves with the HTTP status, headers and parsed body. */
export async function postJson(
  server: GrpcFrameworkServer,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const response = await fetch(`http://${server.webAddress!}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** A Connect or gRPC-Web frame: its flags and data. */
export interface Frame {
  flags: number;
  data: Buffer;
}

/** The frames of a Connect-streaming or gRPC-Web body, in order. */
export function framesOf(bytes: Buffer): Frame[] {
  const frames: Frame[] = [];
  for (let at = 0; at < bytes.length;) {
    const length = bytes.readUInt32BE(at + 1);
    frames.push({ flags: bytes[at], data: bytes.subarray(at + 5, at + 5 + length) });
    at += 5 + length;
  }
  return frames;
}
