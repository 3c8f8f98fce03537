// The one place that relies on @nestjs/microservices (an optional peer: only applications with
// @GrpcMethod controllers have it) and on its internals (checked against 11.2);
// test/unit/microservices-internals.spec.ts fails, naming what moved, when an upgrade changes them.

/** Where `@GrpcMethod`, `@GrpcStreamMethod` and `@GrpcStreamCall` keep their pattern (`constants.PATTERN_METADATA`). */
export const PATTERN_METADATA = 'microservices:pattern';
/** Where they keep their transport (`constants.TRANSPORT_METADATA`): `Transport.GRPC`. */
export const TRANSPORT_METADATA = 'microservices:transport';
/** `Transport.GRPC`. */
export const GRPC_TRANSPORT = 4;
/** `GrpcMethodStreamingType`'s values. */
export const STREAMING = { none: 'no_stream', rx: 'rx_stream', passThrough: 'pt_stream' } as const;
/** Where `@Payload()`, `@Ctx()` and `@GrpcCall()`... keep their parameters (`PARAM_ARGS_METADATA`). */
export const PARAM_ARGS_METADATA = '__routeArguments__';

/** The pattern of a `@GrpcMethod` handler. */
export interface GrpcMethodPattern {
  /** The service's name, with or without its package. */
  service: string;
  rpc: string;
  streaming: (typeof STREAMING)[keyof typeof STREAMING];
}

/** The gRPC patterns of a method, or none when it is no `@nestjs/microservices` gRPC handler. */
export function grpcPatternsOf(method: Function): GrpcMethodPattern[] {
  if (Reflect.getMetadata(TRANSPORT_METADATA, method) !== GRPC_TRANSPORT) return [];
  const patterns: unknown = Reflect.getMetadata(PATTERN_METADATA, method);
  if (!Array.isArray(patterns)) return [];
  return patterns.filter(
    (p): p is GrpcMethodPattern => !!p && typeof p === 'object' && typeof p.service === 'string' && typeof p.rpc === 'string',
  );
}

/** What turns a handler's parameter decorators (`@Payload()`...) into its arguments: Nest's `RpcParamsFactory`. */
export interface ParamsFactory {
  exchangeKeyForValue(type: number, data: string | undefined, args: unknown[]): unknown;
}

let paramsFactory: ParamsFactory | undefined;

/** Nest's `RpcParamsFactory`, from @nestjs/microservices (present whenever a `@GrpcMethod` is). */
export function rpcParamsFactory(): ParamsFactory {
  if (!paramsFactory) {
    const { RpcParamsFactory } = require('@nestjs/microservices/factories/rpc-params-factory') as {
      RpcParamsFactory: new () => ParamsFactory;
    };
    paramsFactory = new RpcParamsFactory();
  }
  return paramsFactory;
}
