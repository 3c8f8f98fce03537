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
