import { NestInterceptor, UseInterceptors } from '@nestjs/common';
import type { ExternalContextCreator } from '@nestjs/core';
import type { CallAccess } from '../auth/call-access';
import type { CallContext } from '../call/call-context';
import type { RpcDefinition } from '../proto/proto-registry';
import type { BoundRpc, Invoke, RpcRequest } from '../transport/bound-rpc';
import { afterFilters } from './exception-filters';
import { interceptedInvoke } from './intercepted-stream';
import { controllerContextCreator, exceptionFiltersOf, runsEnhancers, streamEnhancersOf } from './nest-internals';
import { guardedHandler, ParamDecorators } from './nest-pipeline';

/**
 * One rpc's handler on a controller, as Nest's pipeline runs it: a framework service's method
 * (`service-binding.ts`) or a `@GrpcMethod` handler (`grpc-method-binding.ts`).
 */
export interface RpcBinding<Args extends unknown[] = [RpcRequest, CallContext]> {
  rpc: RpcDefinition;
  /** The fully qualified service name. */
  service: string;
  instance: object;
  /** Token of the module declaring the controller; its injector resolves the guards, interceptors and filters. */
  moduleKey: string;
  /** The method's name, as guards and interceptors see it (`context.getHandler().name`). */
  name: string;
  /** The method whose decorators (@UseGuards, @SetMetadata, ...) apply. */
  decorated: Function;
  /** Runs the handler with the arguments Nest's pipeline gives it. */
  run: (...args: Args) => unknown;
  /** The arguments guards, interceptors, the handler and exception filters receive; `(request, context)` when absent. */
  argsOf?: (request: RpcRequest, context: CallContext) => Args;
  /** The module's interceptors, applied to every handler. */
  interceptors: readonly NestInterceptor[];
  contextCreator: ExternalContextCreator;
  /**
   * `@nestjs/microservices` semantics: arguments from Nest's parameter decorators (`@Payload()`),
   * and a server stream may answer with an Observable (so its messages always pass the
   * pipeline). Without it, the pipeline is skipped where nothing would run in it.
   */
  microservices?: { params: ParamDecorators };
  /** Runs the guarded pipeline in a way of its own (a `@GrpcStreamCall` handler receives the call). */
  invokeWith?: (pipeline: (...args: unknown[]) => Promise<unknown>) => Invoke;
  /** The caller found and the permissions asked before anything else runs. */
  access?: CallAccess;
}

/** Binds one handler: Nest's guards and interceptors around it, its exception filters on every error of the call. */
export function bindRpc<Args extends unknown[]>(binding: RpcBinding<Args>): BoundRpc {
  const { instance, moduleKey, name, decorated, run, argsOf } = binding;
  // Nest's pipeline calls it with the arguments argsOf made (with Nest's parameter decorators, those they resolve).
  // Without argsOf the handler takes (request, context) as they are: no arguments array per call.
  const runAny = run as (...args: unknown[]) => unknown;
  const callback: (...args: unknown[]) => unknown = argsOf
    ? function (this: unknown, ...args: unknown[]): unknown {
        return runAny(...args);
      }
    : function (this: unknown, request: unknown, context: unknown): unknown {
        return runAny(request, context);
      };
  Object.defineProperty(callback, 'name', { value: name });
  for (const key of Reflect.getMetadataKeys(decorated)) Reflect.defineMetadata(key, Reflect.getMetadata(key, decorated), callback);
  if (binding.interceptors.length) UseInterceptors(...binding.interceptors)(callback);
  const creator = controllerContextCreator(binding.contextCreator, moduleKey);
  const invoke = withAccess(binding.access, instance, pipelineOf(binding, creator, callback));
  const filters = exceptionFiltersOf(creator, instance, callback, moduleKey);
  const recover = filters
    ? (error: unknown, request: RpcRequest, context: CallContext) =>
        afterFilters(filters, error, request, context, callback, instance.constructor, argsOf?.(request, context))
    : undefined;
  return { rpc: binding.rpc, service: binding.service, invoke, ...(recover ? { recover } : {}) };
}

/**
 * The handler inside Nest's guards and interceptors: run by the framework for a server stream
 * with interceptors (they see its messages one by one), by Nest's pipeline otherwise, and
 * called directly when nothing would run around it.
 */
function pipelineOf<Args extends unknown[]>(
  binding: RpcBinding<Args>,
  creator: ExternalContextCreator,
  callback: (...args: unknown[]) => unknown,
): Invoke {
  const { instance, moduleKey, name, argsOf, rpc, microservices } = binding;
  if (binding.invokeWith) return binding.invokeWith(guardedHandler(creator, instance, callback, name));
  const streamEnhancers = rpc.responseStream
    ? streamEnhancersOf(creator, instance, callback, moduleKey, microservices !== undefined)
    : undefined;
  if (streamEnhancers) {
    const run = argsOf ? (request: RpcRequest, context: CallContext) => callback(...argsOf(request, context)) : callback;
    return interceptedInvoke(streamEnhancers, run, rpc.path, argsOf);
  }
  if (!microservices && !runsEnhancers(creator, instance, callback, moduleKey)) return directly(callback, argsOf);
  const pipeline = guardedHandler(creator, instance, callback, name, microservices?.params);
  return argsOf ? (request, context) => pipeline(...argsOf(request, context)) : pipeline;
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
function directly(
  callback: (...args: unknown[]) => unknown,
  argsOf: ((request: RpcRequest, context: CallContext) => unknown[]) | undefined,
): Invoke {
  return (request, context) => {
    try {
      return Promise.resolve(argsOf ? callback(...argsOf(request, context)) : callback(request, context));
    } catch (error) {
      return Promise.reject(error);
    }
  };
}
