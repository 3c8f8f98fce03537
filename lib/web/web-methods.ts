import type * as protobuf from 'protobufjs';
import type { ProtoRegistry } from '../proto/proto-registry';
import type { RpcHandler } from '../call/call-port';
import { WebJson } from './web-json';

/** A served rpc as the web transports see it: its messages' types (for JSON) and its handler. */
export interface WebMethod {
  path: string;
  input: protobuf.Type;
  output: protobuf.Type;
  /** Declared `idempotency_level = NO_SIDE_EFFECTS`: Connect clients may call it with GET. */
  noSideEffects: boolean;
  entry: RpcHandler;
  /** Reads and writes its messages' JSON. */
  json: WebJson;
}

/** Every rpc the gRPC server serves, by method path, with its message types. */
export function webMethods(registry: ProtoRegistry, handlers: ReadonlyMap<string, RpcHandler>): Map<string, WebMethod> {
  const json = new WebJson();
  const methods = new Map<string, WebMethod>();
  for (const [path, entry] of handlers) {
    const [, serviceName, methodName] = path.split('/');
    const rpc = registry.service(serviceName)?.rpcs.find((r) => r.name === methodName);
    if (!rpc) continue;
    methods.set(path, {
      path,
      input: rpc.request.type,
      output: rpc.response.type,
      noSideEffects: rpc.idempotency === 'NO_SIDE_EFFECTS',
      entry,
      json,
    });
  }
  return methods;
}
