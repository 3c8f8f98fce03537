import type { ExternalContextCreator } from '@nestjs/core';

/** How Nest builds a handler's arguments from its parameter decorators (`@Payload()`...). */
export interface ParamDecorators {
  metadataKey: string;
  factory: Parameters<ExternalContextCreator['create']>[4];
}

/**
 * `callback` wrapped in Nest's guards and interceptors, as an `'rpc'` context, with its
 * arguments from `params` when given. Exception filters are left out: the call handlers run
 * them on every error of the call (`exception-filters.ts`).
 */
export function guardedHandler(
  creator: ExternalContextCreator,
  instance: object,
  callback: Function,
  methodName: string,
  params?: ParamDecorators,
): (...args: unknown[]) => Promise<unknown> {
  return creator.create(
    instance,
    callback as (...args: unknown[]) => unknown,
    methodName,
    params?.metadataKey,
    params?.factory,
    undefined,
    undefined,
    { guards: true, interceptors: true, filters: false },
    'rpc',
  ) as (...args: unknown[]) => Promise<unknown>;
}
