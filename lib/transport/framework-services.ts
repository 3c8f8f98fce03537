import {
  handleBidiStreamingCall,
  handleServerStreamingCall,
  handleUnaryCall,
  MethodDefinition,
  Server,
  ServerDuplexStream,
  ServerUnaryCall,
  ServerWritableStream,
  ServiceDefinition,
  ServiceError,
  status,
  UntypedHandleCall,
  UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import * as path from 'node:path';
import { boundedMessage } from '../errors/status-limits';
import type { MessageCodec } from '../proto/message-codec';
import { ProtoRegistry } from '../proto/proto-registry';
import { MalformedMessageError } from '../proto/strict-reader';
import { serviceError } from './call-handlers';

/** Health checks and reflection requests are small; larger ones are refused before decoding. */
export const FRAMEWORK_SERVICE_MAX_REQUEST_BYTES = 16 * 1024;

const REFLECTION_PROTO_DIR = path.join(path.dirname(require.resolve('@grpc/reflection')), '..', 'proto');

/** The protos of the health and reflection services served, named as grpc's own servers name them. */
export function frameworkServicesRegistry(serve: { health: boolean; reflection: boolean }): ProtoRegistry {
  const health = [{ file: healthProtoPath, name: 'grpc/health/v1/health.proto' }];
  const reflection = ['grpc/reflection/v1/reflection.proto', 'grpc/reflection/v1alpha/reflection.proto'];
  const files = [...(serve.health ? health : []), ...(serve.reflection ? reflection : [])];
  return ProtoRegistry.load(files, [REFLECTION_PROTO_DIR], { longs: String, enums: String });
}

const identity = (bytes: Buffer): Buffer => bytes;

/**
 * A server to hand to a library that adds its own services (grpc-health-check,
 * @grpc/reflection): their requests are checked as the framework's are (size, structure,
 * wire types, UTF-8; INVALID_ARGUMENT or RESOURCE_EXHAUSTED, never INTERNAL "Error
 * deserializing request") before the library's own deserializer reads them, and the statuses
 * they send stay within the sizes every client accepts.
 */
export function underFrameworkDecoding(server: Server, registry: ProtoRegistry): Pick<Server, 'addService'> {
  return {
    addService(definition: ServiceDefinition, implementation: UntypedServiceImplementation): void {
      const guardedDefinition: Record<string, MethodDefinition<Buffer, unknown>> = {};
      const guardedImplementation: UntypedServiceImplementation = {};
      for (const [name, method] of Object.entries(definition) as [string, MethodDefinition<unknown, unknown>][]) {
        const handler = implementation[name] ?? implementation[method.originalName ?? ''];
        if (!handler) continue;
        const reader = requestReader(method, requestCodec(registry, method.path));
        guardedDefinition[name] = { ...method, requestDeserialize: identity } as MethodDefinition<Buffer, unknown>;
        guardedImplementation[name] = guard(method, handler, reader);
      }
      server.addService(guardedDefinition, guardedImplementation);
    },
  };
}

type RequestReader = (bytes: Buffer) => { request: unknown } | { refused: ServiceError };

function requestCodec(registry: ProtoRegistry, methodPath: string): MessageCodec {
  const [, serviceName, rpcName] = methodPath.split('/');
  const rpc = registry.service(serviceName)?.rpcs.find((r) => r.name === rpcName);
  if (!rpc) throw new Error(`${methodPath} is not in the framework services' protos`);
  return rpc.request;
}

function requestReader(method: MethodDefinition<unknown, unknown>, codec: MessageCodec): RequestReader {
  const typeName = codec.type.fullName.slice(1);
  return (bytes) => {
    if (bytes.length > FRAMEWORK_SERVICE_MAX_REQUEST_BYTES) {
      const details = `The request is ${bytes.length} bytes; ${method.path} accepts at most ${FRAMEWORK_SERVICE_MAX_REQUEST_BYTES}.`;
      return { refused: serviceError({ code: status.RESOURCE_EXHAUSTED, details }) };
    }
    try {
      return { request: method.requestDeserialize(codec.wellFormed(bytes)) };
    } catch (error) {
      const reason = error instanceof MalformedMessageError ? error.message : 'it could not be decoded';
      return {
        refused: serviceError({ code: status.INVALID_ARGUMENT, details: `The request is not a valid ${typeName} message: ${reason}.` }),
      };
    }
  };
}

function guard(method: MethodDefinition<unknown, unknown>, handler: UntypedHandleCall, read: RequestReader): UntypedHandleCall {
  if (method.requestStream) {
    const bidi = handler as handleBidiStreamingCall<unknown, unknown>;
    return ((call: ServerDuplexStream<unknown, unknown>) => bidi(decodingStream(call, read))) as UntypedHandleCall;
  }
  if (method.responseStream) {
    const streaming = handler as handleServerStreamingCall<unknown, unknown>;
    return ((call: ServerWritableStream<Buffer, unknown>) => {
      const outcome = read(call.request);
      if ('refused' in outcome) call.emit('error', outcome.refused);
      else streaming(withRequest(call, outcome.request));
    }) as UntypedHandleCall;
  }
  const unary = handler as handleUnaryCall<unknown, unknown>;
  return ((call: ServerUnaryCall<Buffer, unknown>, callback: (error: ServiceError | null, value?: unknown) => void) => {
    const outcome = read(call.request);
    if ('refused' in outcome) return callback(outcome.refused);
    unary(withRequest(call, outcome.request), (error, value) =>
      error
        ? callback({ ...error, details: boundedMessage(error.details ?? (error as Error).message ?? '') } as ServiceError)
        : callback(null, value),
    );
  }) as UntypedHandleCall;
}

/** The call as the library expects it: the same object, with the decoded request. */
function withRequest<C extends object>(call: C, request: unknown): C {
  return new Proxy(call, {
    get: (target, property) => (property === 'request' ? request : bound(target, property)),
  });
}

/** A request stream whose `data` events carry decoded messages; a malformed one ends the call. */
function decodingStream(call: ServerDuplexStream<unknown, unknown>, read: RequestReader): ServerDuplexStream<unknown, unknown> {
  const on = (event: string, listener: (...args: unknown[]) => void) => {
    if (event !== 'data') return call.on(event, listener);
    return call.on('data', (bytes: Buffer) => {
      const outcome = read(bytes);
      if ('refused' in outcome) call.emit('error', outcome.refused);
      else listener(outcome.request);
    });
  };
  return new Proxy(call, {
    get: (target, property) => (property === 'on' || property === 'addListener' ? on : bound(target, property)),
  });
}

function bound(target: object, property: string | symbol): unknown {
  const value = Reflect.get(target, property, target);
  return typeof value === 'function' ? value.bind(target) : value;
}
