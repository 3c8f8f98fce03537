// The one place that reads class-transformer's decorator metadata (checked against 0.5.1):
// its public API transforms objects but does not list what a class declares, so this reads the
// `defaultMetadataStorage` it keeps, as @nestjs/swagger and @nestjs/graphql do.
// test/unit/class-transformer-decorations.spec.ts fails, naming the internal, when it changes.

/** A class-transformer `@Transform` function, as it calls it. */
export type TransformFn = (params: { value: unknown; key: string; obj: unknown; type: number; options: unknown }) => unknown;

/** What class-transformer's decorators say about one property of a serializer class. */
export interface PropertyDecorations {
  /** `@Exclude()`: 'both' drops the field, 'out' makes it write-only, 'in' read-only. */
  exclude?: 'both' | 'out' | 'in';
  /** `@Expose()` is on the property (with or without options). */
  exposed?: boolean;
  /** `@Expose({ name })`: the name on the plain side, which is the proto field's. */
  name?: string;
  /** `@Expose({ toPlainOnly })` / `{ toClassOnly }`: the field goes one way only. */
  exposeOnly?: 'out' | 'in';
  /** `@Type(() => X)`. */
  type?: () => unknown;
  /** `@Transform()` functions run on the way out (to the message) and in (from it). */
  toMessage: TransformFn[];
  fromMessage: TransformFn[];
}

export interface ClassDecorations {
  /** Class-level `@Exclude()`: only `@Expose()`d properties are fields. */
  exposedOnly: boolean;
  properties: Map<string, PropertyDecorations>;
}

interface DirectionOptions {
  toClassOnly?: boolean;
  toPlainOnly?: boolean;
}

interface MetadataStorageLike {
  getStrategy(target: Function): 'none' | 'excludeAll' | 'exposeAll';
  getExposedMetadatas(target: Function): { propertyName?: string; options?: DirectionOptions & { name?: string } }[];
  getExcludedMetadatas(target: Function): { propertyName?: string; options?: DirectionOptions }[];
  findTypeMetadata(target: Function, propertyName: string): { typeFunction: () => unknown } | undefined;
  findTransformMetadatas(target: Function, propertyName: string, transformationType: number): { transformFn: TransformFn }[];
}

/** class-transformer's TransformationType: PLAIN_TO_CLASS (a message in) and CLASS_TO_PLAIN (a message out). */
export const PLAIN_TO_CLASS = 0;
export const CLASS_TO_PLAIN = 1;

let storage: MetadataStorageLike | null | undefined;

/** class-transformer's metadata storage, or null when the package is not installed (it is an optional peer). */
export function metadataStorage(): MetadataStorageLike | null {
  if (storage === undefined) {
    try {
      storage = (require('class-transformer/cjs/storage') as { defaultMetadataStorage: MetadataStorageLike }).defaultMetadataStorage;
    } catch {
      storage = null;
    }
  }
  return storage;
}

/**
 * The class-transformer decorators of a class (its parents' included) on its `fields` and on
 * any property it excludes or exposes; undefined when it has none or the package is absent.
 */
export function classDecorations(cls: Function, fields: readonly string[]): ClassDecorations | undefined {
  const store = metadataStorage();
  if (!store) return undefined;
  const properties = new Map<string, PropertyDecorations>();
  const entry = (name: string): PropertyDecorations => {
    let decorations = properties.get(name);
    if (!decorations) properties.set(name, (decorations = { toMessage: [], fromMessage: [] }));
    return decorations;
  };
  for (const { propertyName, options } of store.getExcludedMetadatas(cls)) {
    if (propertyName) entry(propertyName).exclude = oneWay(options) === 'out' ? 'out' : oneWay(options) === 'in' ? 'in' : 'both';
  }
  for (const { propertyName, options } of store.getExposedMetadatas(cls)) {
    if (!propertyName) continue;
    const decorations = entry(propertyName);
    decorations.exposed = true;
    if (options?.name) decorations.name = options.name;
    const only = oneWay(options);
    if (only) decorations.exposeOnly = only;
  }
  // Types and transforms are found per property, walking the class's ancestors.
  const candidates = new Set<string>([...properties.keys(), ...fields]);
  for (const name of candidates) {
    const type = store.findTypeMetadata(cls, name);
    const toMessage = store.findTransformMetadatas(cls, name, CLASS_TO_PLAIN).map((m) => m.transformFn);
    const fromMessage = store.findTransformMetadatas(cls, name, PLAIN_TO_CLASS).map((m) => m.transformFn);
    if (!type && !toMessage.length && !fromMessage.length) continue;
    const decorations = entry(name);
    if (type) decorations.type = type.typeFunction;
    decorations.toMessage = toMessage;
    decorations.fromMessage = fromMessage;
  }
  const exposedOnly = store.getStrategy(cls) === 'excludeAll';
  return properties.size || exposedOnly ? { exposedOnly, properties } : undefined;
}

/** 'out' for toPlainOnly, 'in' for toClassOnly, undefined for both ways. */
function oneWay(options: DirectionOptions | undefined): 'out' | 'in' | undefined {
  if (!options || options.toClassOnly === options.toPlainOnly) return undefined;
  return options.toPlainOnly ? 'out' : 'in';
}
