import * as grpc from '@grpc/grpc-js';
import { ProtoRegistry } from '../proto/proto-registry';
import { clientServiceDefinition, PromiseClient, promiseMethods } from './promise-client';

export interface GrpcClientOptions {
  /** `host:port` of the server. */
  address: string;
  /** The fully qualified service, e.g. `bookstore.BookController`. */
  service: string;
  /** The .proto files declaring it (as `GrpcFrameworkModule.forRoot`'s `protoPath`). */
  protoPath: string | string[];
  /** Folders imports are found in. @default [] */
  includeDirs?: string[];
  /** @default insecure (plain text): pass `grpc.credentials.createSsl(...)` for TLS */
  credentials?: grpc.ChannelCredentials;
  /** grpc-js client options (keepalive, interceptors, `channelOverride`, ...). */
  options?: grpc.ClientOptions;
}

/** A promise client, and `close()` for its channel. */
export type GrpcClientOf<C> = C & { close(): void };

/**
 * A client of a gRPC service (one of this framework's, or any other) whose messages are shaped
 * as the framework's handlers see them: int64 as strings, Timestamps as Dates, wrappers as bare
 * values, enums by name. Unary rpcs return promises; pass the generated `<Service>Client`
 * interface for types. In another Nest application, make it in a provider's `useFactory`.
 *
 * ```ts
 * const books = createGrpcClient<BookControllerClient>({ address, service: 'bookstore.BookController', protoPath });
 * const book = await books.Retrieve({ id: 1 }); // Book
 * ```
 *
 * @publicApi
 */
export function createGrpcClient<C = PromiseClient>(options: GrpcClientOptions): GrpcClientOf<C> {
  const protoPath = Array.isArray(options.protoPath) ? options.protoPath : [options.protoPath];
  const registry = ProtoRegistry.load(protoPath, options.includeDirs ?? [], { longs: String, enums: String });
  const definition = clientServiceDefinition(registry, options.service);
  if (!definition) {
    throw new Error(
      `createGrpcClient: no service "${options.service}" in ${protoPath.join(', ')} (services: ${registry.serviceNames().join(', ') || 'none'}).`,
    );
  }
  const Client = grpc.makeGenericClientConstructor(definition, options.service);
  const client = new Client(options.address, options.credentials ?? grpc.credentials.createInsecure(), options.options ?? {});
  return Object.assign(promiseMethods(client, definition), { close: () => client.close() }) as unknown as GrpcClientOf<C>;
}
