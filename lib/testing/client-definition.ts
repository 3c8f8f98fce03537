import type * as grpc from '@grpc/grpc-js';
import type { ProtoRegistry } from '../proto/proto-registry';

/**
 * A grpc-js service definition for clients of a loaded service whose messages are encoded and
 * decoded as the service's handlers see them (Dates for Timestamps, bare wrapper values,
 * int64 as strings), so a test writes requests the way a handler reads them.
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
