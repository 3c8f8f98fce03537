import { Controller } from '@nestjs/common';
import { GrpcMethod, GrpcStreamCall, GrpcStreamMethod, Transport } from '@nestjs/microservices';
import * as constants from '@nestjs/microservices/constants';
import {
  GRPC_TRANSPORT,
  grpcPatternsOf,
  PARAM_ARGS_METADATA,
  PATTERN_METADATA,
  rpcParamsFactory,
  STREAMING,
  TRANSPORT_METADATA,
} from '../../lib/nest/microservices-internals';

// lib/nest/microservices-internals.ts reads what @nestjs/microservices' gRPC decorators leave
// on a method; this fails, naming the value, when an upgrade changes it.
describe('@nestjs/microservices internals the framework relies on', () => {
  it('keeps its metadata keys and the GRPC transport number', () => {
    expect({
      PATTERN_METADATA: constants.PATTERN_METADATA,
      TRANSPORT_METADATA: constants.TRANSPORT_METADATA,
      PARAM_ARGS_METADATA: constants.PARAM_ARGS_METADATA,
      GRPC: Transport.GRPC,
    }).toEqual({
      PATTERN_METADATA,
      TRANSPORT_METADATA,
      PARAM_ARGS_METADATA,
      GRPC: GRPC_TRANSPORT,
    });
  });

  it('describes @GrpcMethod, @GrpcStreamMethod and @GrpcStreamCall handlers as patterns', () => {
    @Controller()
    class Heroes {
      @GrpcMethod('HeroesService', 'FindOne') findOne(): void {}
      @GrpcStreamMethod('hero.HeroesService', 'FindMany') findMany(): void {}
      @GrpcStreamCall('HeroesService') record(): void {}
    }
    expect(grpcPatternsOf(Heroes.prototype.findOne)).toEqual([{ service: 'HeroesService', rpc: 'FindOne', streaming: STREAMING.none }]);
    expect(grpcPatternsOf(Heroes.prototype.findMany)).toEqual([
      { service: 'hero.HeroesService', rpc: 'FindMany', streaming: STREAMING.rx },
    ]);
    expect(grpcPatternsOf(Heroes.prototype.record)).toEqual([
      { service: 'HeroesService', rpc: 'Record', streaming: STREAMING.passThrough },
    ]);
  });

  it('makes handler arguments from @Payload(), @Ctx() and @GrpcCall() with RpcParamsFactory', () => {
    const args = [{ id: 1 }, 'metadata', 'call'];
    expect([3, 6, 9].map((type) => rpcParamsFactory().exchangeKeyForValue(type, undefined, args))).toEqual(args);
    expect(rpcParamsFactory().exchangeKeyForValue(3, 'id', args)).toBe(1);
  });
});
