import * as grpc from '@grpc/grpc-js';
import type { ProtoRegistry } from '../proto/proto-registry';

/**
 * A method of a promise client: unary methods take a request and return a promise,
 * client-streaming ones take the messages to send, server-streaming and bidi ones return
 * grpc-js's stream. Generated `<Service>Client` interfaces type each one.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ClientRpc = (request?: object, metadata?: grpc.Metadata, options?: grpc.CallOptions) => any;

/** A client's methods by rpc name, untyped: pass a generated `<Service>Client` interface for types. */
export type PromiseClient = Record<string, ClientRpc>;

type RawRpc = (...args: unknown[]) => unknown;

/**
 * A grpc-js service definition for clients of a loaded service whose messages are encoded and
 * decoded as the service's handlers see them (Dates for Timestamps, bare wrapper values,
 * int64 as strings), so a client writes requests the way a handler reads them.
 */
export function clientServiceDefinition(registry: ProtoRegistry, service: string): grpc.ServiceDefinition | undefined {
  const definition = registry.service(service);
  if (!definition) return undefined;
  const methods: Record<string, grpc.MethodDefinition<object, unknown>> = {};
  for (const rpc of definition.rpcs) {
    methods[rpc.name] = {
      path: rpc.path,
      requestStream: rpc.requestStream,
      responseStream: rpc.responseStream,
      requestSerialize: (message: object) => rpc.request.encode(message),
      requestDeserialize: (bytes: Buffer) => rpc.request.decode(bytes),
      responseSerialize: (message: unknown) => rpc.response.encode(message),
      responseDeserialize: (bytes: Buffer) => rpc.response.decode(bytes),
      originalName: rpc.name,
    };
  }
  return methods;
}

/** The promise methods over a grpc-js client of `definition` (see `ClientRpc`). */
export function promiseMethods(client: grpc.Client, definition: grpc.ServiceDefinition): PromiseClient {
  const methods: PromiseClient = {};
  for (const [name, method] of Object.entries(definition)) {
    const call = (client as unknown as Record<string, RawRpc>)[name].bind(client);
    const answered =
      (resolve: (value: unknown) => void, reject: (error: unknown) => void) => (error: grpc.ServiceError | null, response: unknown) =>
        error ? reject(error) : resolve(response);
    if (method.responseStream) methods[name] = call as ClientRpc;
    else if (method.requestStream) {
      methods[name] = (messages: object = [], metadata = new grpc.Metadata(), options = {}) =>
        new Promise((resolve, reject) => {
          const stream = call(metadata, options, answered(resolve, reject)) as grpc.ClientWritableStream<object>;
          for (const message of messages as Iterable<object>) stream.write(message);
          stream.end();
        });
    } else {
      methods[name] = (request = {}, metadata = new grpc.Metadata(), options = {}) =>
        new Promise((resolve, reject) => call(request, metadata, options, answered(resolve, reject)));
    }
  }
  return methods;
}
