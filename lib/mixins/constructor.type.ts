import type { GenericServiceBase } from '../services/generic-service';

/**
 * A class constructor, as TypeScript's mixin pattern requires (`any[]` is the only argument
 * type TypeScript accepts for a mixin base).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Constructor<T = object> = new (...args: any[]) => T;

/** What every mixin composes over: `GenericService(Entity)` or a class built from it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type GenericServiceConstructor = Constructor<GenericServiceBase<any>>;

/** Names a mixed class after what it is made of, so stack traces and logs read well. */
export function nameMixin(cls: Function, mixin: string, base: Function): void {
  Object.defineProperty(cls, 'name', { value: `${mixin}(${base.name})` });
}
