import type { ArgumentsHost, NestInterceptor, PipeTransform } from '@nestjs/common';
import type { ExternalContextCreator } from '@nestjs/core';

// The one place that relies on @nestjs/core internals (checked against 11.2);
// test/unit/nest-internals.spec.ts fails, naming the method, when an upgrade changes them.

/**
 * Nest's ExternalContextCreator looks for the module of a handler's class among providers
 * only, so the guards and interceptors a controller names by class would not be found. This
 * view of the shared creator answers with the controller's own module instead, through its
 * two private methods `getHostModuleKey` and `getContextModuleKey`.
 */
export function controllerContextCreator(creator: ExternalContextCreator, moduleKey: string): ExternalContextCreator {
  const moduleOf = (): string => moduleKey;
  return Object.create(creator, {
    getHostModuleKey: { value: moduleOf },
    getContextModuleKey: { value: moduleOf },
  }) as ExternalContextCreator;
}

/** The private methods `controllerContextCreator` replaces, for the test that watches them. */
export const REPLACED_CONTEXT_CREATOR_METHODS = ['getHostModuleKey', 'getContextModuleKey'] as const;

interface EnhancerContextCreator {
  create(instance: object, callback: Function, moduleKey: string): readonly unknown[];
}

/** The private fields `runsEnhancers` reads. */
export const ENHANCER_CREATORS = ['guardsContextCreator', 'interceptorsContextCreator'] as const;

/**
 * Whether Nest would run a guard or an interceptor around `callback` (its own, its class's, its
 * module's globals, `useGlobalGuards`/`useGlobalInterceptors`, APP_GUARD/APP_INTERCEPTOR), read
 * through the context creator's private `guardsContextCreator` and `interceptorsContextCreator`.
 * When none would, calls skip Nest's pipeline, which then only adds promises.
 */
export function runsEnhancers(creator: ExternalContextCreator, instance: object, callback: Function, moduleKey: string): boolean {
  const creators = creator as unknown as Record<(typeof ENHANCER_CREATORS)[number], EnhancerContextCreator>;
  return ENHANCER_CREATORS.some((name) => creators[name].create(instance, callback, moduleKey).length > 0);
}

/** What `exceptionFiltersOf` reads: the context creator's private `filtersContextCreator`, and its handler's private `filters`. */
export const FILTER_INTERNALS = { creator: 'filtersContextCreator', filters: 'filters' } as const;

/** The exception filters that apply to a handler, run in Nest's order by `invokeCustomFilters`. */
export interface ExceptionFiltersOfHandler {
  /** The result of the first filter whose `@Catch()` matches, or null when none does. */
  invokeCustomFilters(exception: unknown, host: ArgumentsHost): unknown;
}

/**
 * The exception filters Nest would run around `callback`: `@UseFilters` on the method and its
 * class, `useGlobalFilters` and `APP_FILTER`; undefined when there are none. Read through the
 * context creator's private `filtersContextCreator` (an ExternalExceptionFilterContext), whose
 * handler keeps them in a private `filters` array.
 */
export function exceptionFiltersOf(
  creator: ExternalContextCreator,
  instance: object,
  callback: Function,
  moduleKey: string,
): ExceptionFiltersOfHandler | undefined {
  const context = (creator as unknown as Record<string, EnhancerContextCreator>)[FILTER_INTERNALS.creator];
  const handler = context.create(instance, callback, moduleKey) as unknown as ExceptionFiltersOfHandler & Record<string, unknown>;
  const filters = handler[FILTER_INTERNALS.filters];
  return Array.isArray(filters) && filters.length ? handler : undefined;
}

/** The private field `pipesOf` reads. */
export const PIPES_CREATOR = 'pipesContextCreator';

/**
 * The pipes Nest would run on `callback`'s arguments (`@UsePipes` on the method and its class,
 * `useGlobalPipes`, `APP_PIPE`), read through the context creator's private
 * `pipesContextCreator`: Nest applies pipes only to parameters it has metadata for, which a
 * framework handler's `(request, context)` has not.
 */
export function pipesOf(
  creator: ExternalContextCreator,
  instance: object,
  callback: Function,
  moduleKey: string,
): readonly PipeTransform[] {
  const context = (
    creator as unknown as Record<string, { create(instance: object, callback: Function, moduleKey: string): PipeTransform[] }>
  )[PIPES_CREATOR];
  return context.create(instance, callback, moduleKey);
}

/** The private fields `streamEnhancersOf` reads. */
export const STREAM_ENHANCER_INTERNALS = {
  guards: 'guardsContextCreator',
  interceptors: 'interceptorsContextCreator',
  consumer: 'interceptorsConsumer',
} as const;

/** Guards and interceptors of a server-streaming handler, run by the framework so its messages stay a stream. */
export interface StreamEnhancers {
  /** Throws when a guard refuses, as Nest's pipeline does. */
  guard(args: unknown[]): Promise<void>;
  /** Runs the interceptors around `next` (the handler's messages) and resolves with their Observable. */
  intercept(args: unknown[], next: () => Promise<unknown>): Promise<unknown>;
}

/**
 * The guards and interceptors Nest would run around `callback`, when it has interceptors
 * (without, Nest's own pipeline serves a framework stream as well; not an Observable a
 * `@GrpcMethod` returns, hence `evenWithoutInterceptors`). Nest's pipeline hands the handler's
 * result to interceptors as one value and resolves with its last: a stream's messages must
 * reach them one by one, so the framework runs the context creator's private
 * `interceptorsConsumer` itself (and guards through the public `createGuardsFn`).
 */
export function streamEnhancersOf(
  creator: ExternalContextCreator,
  instance: object,
  callback: Function,
  moduleKey: string,
  evenWithoutInterceptors = false,
): StreamEnhancers | undefined {
  const internals = creator as unknown as Record<string, EnhancerContextCreator> &
    Record<typeof STREAM_ENHANCER_INTERNALS.consumer, InterceptorsConsumer>;
  const interceptors = internals[STREAM_ENHANCER_INTERNALS.interceptors].create(instance, callback, moduleKey);
  if (!interceptors.length && !evenWithoutInterceptors) return undefined;
  const guards = internals[STREAM_ENHANCER_INTERNALS.guards].create(instance, callback, moduleKey);
  const handler = callback as (...args: unknown[]) => unknown;
  const guardFn = guards.length
    ? (creator.createGuardsFn(guards as unknown[], instance, handler, 'rpc') as (args: unknown[]) => Promise<void>)
    : undefined;
  const consumer = internals[STREAM_ENHANCER_INTERNALS.consumer];
  return {
    guard: async (args) => guardFn?.(args),
    intercept: (args, next) => consumer.intercept(interceptors as NestInterceptor[], args, instance, handler, next, 'rpc'),
  };
}

interface InterceptorsConsumer {
  intercept(
    interceptors: NestInterceptor[],
    args: unknown[],
    instance: object,
    callback: (...args: unknown[]) => unknown,
    next: () => Promise<unknown>,
    type?: string,
  ): Promise<unknown>;
}
