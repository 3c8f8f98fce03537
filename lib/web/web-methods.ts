import { create, createFileRegistry } from '@bufbuild/protobuf';
import type { DescMethod } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import type { ProtoRegistry } from '../proto/proto-registry';
import type { RpcHandler } from '../call/call-port';
import { WebJson } from './web-json';

/** A served rpc as the web transports see it: its schema (for JSON) and its handler. */
export interface WebMethod {
  path: string;
  method: DescMethod;
  entry: RpcHandler;
  /** Reads and writes its messages' JSON. */
  json: WebJson;
}

/** Every rpc the gRPC server serves, by method path, with its @bufbuild/protobuf schema. */
export function webMethods(registry: ProtoRegistry, handlers: ReadonlyMap<string, RpcHandler>): Map<string, WebMethod> {
  const files = createFileRegistry(create(FileDescriptorSetSchema, { file: [...registry.fileDescriptors()] }));
  const json = new WebJson();
  const methods = new Map<string, WebMethod>();
  for (const [path, entry] of handlers) {
    const [, serviceName, methodName] = path.split('/');
    const method = files.getService(serviceName)?.methods.find((m) => m.name === methodName);
    if (method) methods.set(path, { path, method, entry, json });
  }
  return methods;
}
