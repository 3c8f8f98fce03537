/** The framework's own implementations of the methods users override (methods and getters alike). */
const defaults = new WeakSet<Function>();

/**
 * Marks the methods `names` of `prototype` as the framework's defaults. The fast paths (lean
 * reads, writes without a transaction) hold only while these are not replaced; `isDefault` is
 * how they ask, in one place (`plan/`), instead of comparing prototypes everywhere.
 */
export function markDefaults(prototype: object, names: readonly string[]): void {
  for (const name of names) {
    const implementation = implementationOf(prototype, name);
    if (!implementation) throw new Error(`markDefaults: ${prototype.constructor.name} has no method ${name}`);
    defaults.add(implementation);
  }
}

/** Whether `target` (an instance or a prototype) still uses the framework's default for `name`. */
export function isDefault(target: object, name: string): boolean {
  const implementation = implementationOf(target, name);
  return implementation !== undefined && defaults.has(implementation);
}

/** The method, or the getter, that `name` resolves to on `target`. */
function implementationOf(target: object, name: string): Function | undefined {
  for (let proto: object | null = target; proto; proto = Object.getPrototypeOf(proto)) {
    const descriptor = Object.getOwnPropertyDescriptor(proto, name);
    if (descriptor) return typeof descriptor.value === 'function' ? descriptor.value : descriptor.get;
  }
  return undefined;
}
