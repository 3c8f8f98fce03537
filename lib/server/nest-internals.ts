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
