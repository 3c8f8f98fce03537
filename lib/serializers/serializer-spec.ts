import { getMetadataStorage, ValidationTypes } from 'class-validator';
import { classDecorations } from './class-transformer-decorations';
import { FIELD_KINDS } from './field-kinds';
import type { FieldOptions, FieldSpec } from './field-spec';
import type { ProtoSerializer } from './proto-serializer';

const PROTO_FIELDS = Symbol('grpc-framework:proto-fields');

/** Everything a serializer class needs per call, computed once per class. */
export interface SerializerSpec {
  fields: readonly FieldSpec[];
  /** Fields sent to clients. */
  readable: readonly FieldSpec[];
  /** Fields read from client messages. */
  writable: readonly FieldSpec[];
  /** Whether the class (or a parent) carries class-validator rules to run after the built-in checks. */
  hasClassValidatorRules: boolean;
  /** Computed fields whose method takes a batch of objects: `load()` runs them before messages are read. */
  batchFields: readonly FieldSpec[];

  /** The largest an object's readable fields can be, in bytes, as far as their limits tell (List batches size by it). */
  rowBytesEstimate: number;
  /**
   * Properties that more than one writable field writes (`author` by a nested object, or by its
   * key as `author_id`): a message may send one of them, not both.
   */
  alternatives: ReadonlyMap<string, readonly FieldSpec[]>;
  /** Writable nested objects and lists (the related rows are saved with the object). */
  nestedWrites: readonly FieldSpec[];
}

type ClassWithFields = { [PROTO_FIELDS]?: Map<string, FieldOptions> };

/** Records `@ProtoField()` options on a serializer class (own map per class, parents merged on read). */
export function addProtoField(target: object, property: string, options: FieldOptions): void {
  const cls = target.constructor as ClassWithFields;
  if (!Object.prototype.hasOwnProperty.call(cls, PROTO_FIELDS)) {
    Object.defineProperty(cls, PROTO_FIELDS, { value: new Map<string, FieldOptions>(), enumerable: false });
  }
  cls[PROTO_FIELDS]!.set(property, { ...cls[PROTO_FIELDS]!.get(property), ...options });
}

/** `@ProtoField()` options declared on the class and its parents, nearest last. */
export function declaredProtoFields(cls: Function): Map<string, FieldOptions> {
  const chain: Function[] = [];
  for (let c: Function | null = cls; c && c !== Function.prototype; c = Object.getPrototypeOf(c)) chain.unshift(c);
  const merged = new Map<string, FieldOptions>();
  for (const c of chain) {
    if (!Object.prototype.hasOwnProperty.call(c, PROTO_FIELDS)) continue;
    for (const [name, options] of (c as ClassWithFields)[PROTO_FIELDS]!) {
      merged.set(name, { ...merged.get(name), ...options });
    }
  }
  return merged;
}

/** Property names that carry class-validator decorators on the class or its parents. */
export function classValidatorProperties(cls: Function): string[] {
  const metadatas = getMetadataStorage().getTargetValidationMetadatas(cls, '', true, false);
  return [...new Set(metadatas.map((m) => m.propertyName).filter((name): name is string => !!name))];
}

export function buildSpec(fields: FieldSpec[], cls: Function): SerializerSpec {
  const writable = fields.filter((f) => !f.readOnly);
  const byProperty = new Map<string, FieldSpec[]>();
  for (const field of writable) byProperty.set(field.property, [...(byProperty.get(field.property) ?? []), field]);
  return {
    fields,
    readable: fields.filter((f) => !f.writeOnly),
    writable,
    hasClassValidatorRules: classValidatorProperties(cls).length > 0,
    batchFields: fields.filter((f) => f.computed === 'batch'),

    rowBytesEstimate: fields.filter((f) => !f.writeOnly).reduce((sum, field) => sum + FIELD_KINDS[field.kind].bytesAtMost(field), 0),
    alternatives: new Map([...byProperty].filter(([, group]) => group.length > 1)),
    nestedWrites: writable.filter((f) => f.serializer),
  };
}

/**
 * Options with class-validator's `@ValidateNested()` applied: it makes a nested object writable
 * (`readOnly: false`) unless the options say otherwise. It needs a nested serializer to
 * validate with: `@Type(() => AuthorSerializer)` or the `serializer` option.
 */
export function withValidateNested(cls: Function, options: Map<string, FieldOptions>): Map<string, FieldOptions> {
  const nested = getMetadataStorage()
    .getTargetValidationMetadatas(cls, '', true, false)
    .filter((m) => m.type === ValidationTypes.NESTED_VALIDATION)
    .map((m) => m.propertyName);
  for (const name of new Set(nested)) {
    if (!options.has(name)) continue; // a rule on a property that is no field
    const given = options.get(name);
    if (!given?.serializer) {
      throw new Error(
        `field "${name}" has @ValidateNested() but no nested serializer to validate with: add @Type(() => TheSerializer) or the serializer option.`,
      );
    }
    options.set(name, { ...given, readOnly: given.readOnly ?? false });
  }
  return options;
}

/**
 * Field names and options with class-transformer's decorators applied under the options given
 * here (which win where both say something): `@Exclude()` drops a field (`toPlainOnly`: it
 * becomes write-only, `toClassOnly`: read-only), a class-level `@Exclude()` keeps only
 * `@Expose()`d fields, `@Expose({ name })` names the proto field, `@Type(() => Serializer)`
 * nests a serializer, `@Transform()` converts values on their way out, in, or both.
 */
export function withClassTransformer(
  cls: Function,
  names: readonly string[],
  options: ReadonlyMap<string, FieldOptions>,
  isSerializer: (type: unknown) => type is typeof ProtoSerializer,
): { names: string[]; options: Map<string, FieldOptions> } {
  const decorations = classDecorations(cls, names);
  if (!decorations) return { names: [...names], options: new Map(options) };
  const kept = names.filter((name) => {
    const decorated = decorations.properties.get(name);
    if (decorated?.exclude === 'both') return false;
    return !decorations.exposedOnly || decorated?.exposed === true;
  });
  const merged = new Map<string, FieldOptions>();
  for (const name of kept) {
    const decorated = decorations.properties.get(name);
    const given = options.get(name) ?? {};
    if (!decorated) {
      merged.set(name, given);
      continue;
    }
    const derived: FieldOptions = {};
    if (decorated.exclude === 'out' || decorated.exposeOnly === 'in') derived.writeOnly = true;
    if (decorated.exclude === 'in' || decorated.exposeOnly === 'out') derived.readOnly = true;
    if (decorated.name) derived.protoName = decorated.name;
    const type = decorated.type?.();
    if (isSerializer(type)) derived.serializer = type as FieldOptions['serializer'];
    if (decorated.toMessage.length || decorated.fromMessage.length)
      derived.transforms = { toMessage: decorated.toMessage, fromMessage: decorated.fromMessage };
    merged.set(name, { ...derived, ...given });
  }
  return { names: kept, options: merged };
}
