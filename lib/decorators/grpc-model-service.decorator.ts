import { Controller } from '@nestjs/common';
import { GRPC_MODEL_SERVICE_METADATA } from '../common/constants';
import type { GrpcModelServiceOptions } from '../interfaces/grpc-model-service-options.interface';

const PROTOTYPE_DEFAULTS: ReadonlyArray<[keyof GrpcModelServiceOptions, string]> = [
  ['serializer', 'serializerClass'],
  ['lookupField', 'lookupField'],
  ['lookupRequestField', 'lookupRequestField'],
  ['listBatchSize', 'listBatchSize'],
  ['leanReads', 'leanReads'],
  ['writeTransactions', 'writeTransactions'],
  ['filterFields', 'filterFields'],
  ['orderingFields', 'orderingFields'],
  ['filterBackends', 'filterBackends'],
  ['pagination', 'pagination'],
  ['maxPageSize', 'maxPageSize'],
  ['defaultPageSize', 'defaultPageSize'],
  ['countTotal', 'countTotal'],
  ['maxBulkItems', 'maxBulkItems'],
  ['maxBulkBytes', 'maxBulkBytes'],
];

/**
 * Marks a class (a model service, or a hand-written `Service`) as the implementation of a
 * proto service. Its methods named after the
 * service's rpcs (`List`, `Create`, ...) become the handlers; list the class in a module's
 * `controllers` and `GrpcFrameworkModule` serves it. Values given here become the defaults of
 * the matching attributes (`serializerClass`, `lookupField`, ...), which the class may override.
 *
 * @publicApi
 */
export function GrpcModelService(options: GrpcModelServiceOptions | string): ClassDecorator {
  const resolved: GrpcModelServiceOptions = typeof options === 'string' ? { service: options } : options;
  return (target) => {
    Controller()(target);
    Reflect.defineMetadata(GRPC_MODEL_SERVICE_METADATA, resolved, target);
    for (const [option, attribute] of PROTOTYPE_DEFAULTS) {
      if (resolved[option] !== undefined && !Object.prototype.hasOwnProperty.call(target.prototype, attribute)) {
        Object.defineProperty(target.prototype, attribute, { value: resolved[option], writable: true, configurable: true });
      }
    }
  };
}

export function grpcServiceOptionsOf(target: Function): GrpcModelServiceOptions | undefined {
  return Reflect.getMetadata(GRPC_MODEL_SERVICE_METADATA, target);
}
