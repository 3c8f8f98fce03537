import type { NestInterceptor } from '@nestjs/common';
import { UseInterceptors } from '@nestjs/common';
import type { ExternalContextCreator } from '@nestjs/core';
import type { Authenticator } from '../auth/authenticator';
import { CallAccess } from '../auth/call-access';
import type { ServicePermissions } from '../auth/permissions';
import { afterFilters } from './exception-filters';
import { controllerContextCreator, exceptionFiltersOf, pipesOf, runsEnhancers, streamEnhancersOf } from './nest-internals';
import { interceptedInvoke } from './intercepted-stream';
import { guardedHandler } from './nest-pipeline';
import { PipedRequest } from './piped-request';
import { RequestStream } from '../call/request-stream';
import { grpcServiceOptionsOf } from '../decorators/grpc-model-service.decorator';
import type { GrpcModelServiceOptions } from '../interfaces/grpc-model-service-options.interface';
import type { RpcDefinition, ServiceDefinition } from '../proto/proto-registry';
import { Service, serviceView } from '../services/service';
import type { CallContext } from '../call/call-context';
import type { BoundRpc, Invoke, RpcRequest } from '../transport/bound-rpc';

export interface ServiceToBind {
  instance: object;
  options: GrpcModelServiceOptions;
  /** Token of the module declaring the controller; its injector resolves the class's guards and interceptors. */
  moduleKey: string;
  /** That module's class name, for messages. */
  moduleName: string;
}

/** Where a controller was found. */
export interface DiscoveredController {
  instance: unknown;
  moduleKey: string;
  moduleName: string;
}

/** Finds the handler of each rpc and wraps it with Nest's guards and interceptors; its exception filters run on its errors. */
export function bindService(
  target: ServiceToBind,
  definition: ServiceDefinition,
  contextCreator: ExternalContextCreator,
  interceptors: NestInterceptor[],
  access: AccessDefaults,
  problems: string[],
): BoundRpc[] {
  const { instance } = target;
  const className = instance.constructor.name;
  const bound: BoundRpc[] = [];
  for (const rpc of definition.rpcs) {
    const where = `${className} (${definition.name}.${rpc.name}${definition.file ? `, ${definition.file}` : ''})`;
    const method = (instance as Record<string, unknown>)[rpc.name];
    if (typeof method !== 'function') {
      problems.push(
        `${where}: rpc ${rpc.name} has no handler. Add a \`${rpc.name}(request, context)\` method` +
          `${mixinHint(rpc.name)}, or remove the rpc from the service.`,
      );
      continue;
    }
    const handler = method as (...args: unknown[]) => unknown;
    let pipes: PipedRequest | undefined;
    const callback = function (this: unknown, request: RpcRequest, context: CallContext): unknown {
      // Pipes transform a request message; a request stream reaches the handler as it is.
      if (pipes && !(request instanceof RequestStream))
        return pipes.apply(request).then((piped) => handler.call(serviceView(instance as Service, piped, context), piped, context));
      return handler.call(serviceView(instance as Service, request, context), request, context);
    };
    Object.defineProperty(callback, 'name', { value: rpc.name });
    // Method decorators (@UseGuards, @SetMetadata, ...) belong to the handler Nest sees.
    for (const key of Reflect.getMetadataKeys(handler)) {
      Reflect.defineMetadata(key, Reflect.getMetadata(key, handler), callback);
    }
    if (interceptors.length) UseInterceptors(...interceptors)(callback);
    const creator = controllerContextCreator(contextCreator, target.moduleKey);
    pipes = PipedRequest.of(pipesOf(creator, instance, callback, target.moduleKey), instance, rpc.name);
    const invoke = pipelineOf(rpc, creator, instance, callback, target.moduleKey);
    const checked = withAccess(CallAccess.of(rpc.name, target.options, access), instance, invoke);
    const filters = exceptionFiltersOf(creator, instance, callback, target.moduleKey);
    const recover = filters
      ? (error: unknown, request: RpcRequest, context: CallContext) =>
          afterFilters(filters, error, request, context, callback, instance.constructor)
      : undefined;
    bound.push({ rpc, service: definition.name, invoke: checked, ...(recover ? { recover } : {}) });
  }
  return bound;
}

/**
 * The handler inside Nest's guards and interceptors: run by the framework for a server stream
 * with interceptors (they see its messages one by one), by Nest's pipeline otherwise, and
 * called directly when nothing would run around it.
 */
function pipelineOf(
  rpc: RpcDefinition,
  creator: ExternalContextCreator,
  instance: object,
  callback: (request: RpcRequest, context: CallContext) => unknown,
  moduleKey: string,
): Invoke {
  const streamEnhancers = rpc.responseStream ? streamEnhancersOf(creator, instance, callback, moduleKey) : undefined;
  if (streamEnhancers) return interceptedInvoke(streamEnhancers, callback, rpc.path);
  if (!runsEnhancers(creator, instance, callback, moduleKey)) return directly(callback);
  return guardedHandler(creator, instance, callback, rpc.name) as Invoke;
}

/** The module's authenticators and permissions, for services that name none. */
export interface AccessDefaults {
  authenticators: readonly Authenticator[];
  permissions?: ServicePermissions;
}

/** The call checked first (the caller found, the permissions asked), when the rpc has anything to check. */
function withAccess(access: CallAccess | undefined, instance: object, invoke: Invoke): Invoke {
  if (!access) return invoke;
  return async (request, context) => {
    context.access = access;
    await access.check(context, instance);
    return invoke(request, context);
  };
}

/** Calls the handler as Nest's pipeline would when no guard or interceptor applies: a promise of its result. */
function directly(callback: (request: RpcRequest, context: CallContext) => unknown) {
  return (request: RpcRequest, context: CallContext): Promise<unknown> => {
    try {
      return Promise.resolve(callback(request, context));
    } catch (error) {
      return Promise.reject(error);
    }
  };
}

const MIXIN_OF_RPC: Readonly<Record<string, string>> = {
  List: 'ListModelMixin',
  ListPage: 'PagedListModelMixin',
  Create: 'CreateModelMixin',
  Retrieve: 'RetrieveModelMixin',
  Update: 'UpdateModelMixin',
  PartialUpdate: 'UpdateModelMixin (it serves PartialUpdate too)',
  Destroy: 'DestroyModelMixin',
};

function mixinHint(rpc: string): string {
  return MIXIN_OF_RPC[rpc] ? ` or compose ${MIXIN_OF_RPC[rpc]}` : '';
}

/** Every controller decorated with `@GrpcModelService`, with its options. */
export function servicesAmong(controllers: readonly DiscoveredController[]): ServiceToBind[] {
  const found: ServiceToBind[] = [];
  for (const { instance, moduleKey, moduleName } of controllers) {
    if (!instance || typeof instance !== 'object') continue;
    const options = grpcServiceOptionsOf(instance.constructor);
    if (options) found.push({ instance, options, moduleKey, moduleName });
  }
  return found;
}
