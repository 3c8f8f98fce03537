import { OneRowInsert } from '../orm/one-row-insert';
import {
  Collection,
  EntityManager,
  EntityMetadata,
  EntityProperty,
  ReferenceKind,
  ForeignKeyConstraintViolationException,
  Reference,
  UniqueConstraintViolationException,
  Utils,
  wrap,
} from '@mikro-orm/core';
import { status } from '@grpc/grpc-js';
import { FieldViolation, ValidationFailedError } from '../errors/grpc-error';
import { ImproperlyConfiguredError } from '../errors/improperly-configured.error';
import { defaultFieldNames } from './entity-properties';
import { entityFieldSpec } from './entity-field-specs';
import { entityMetadataOf } from './entity-metadata-source';
import { FieldOptions, FieldSpec, resolveFieldSpec } from './field-spec';
import { formatDecimal } from './field-validation';
import { CLASS_TO_PLAIN } from './class-transformer-decorations';
import { isProtoSerializerClass, ProtoSerializer, SerializerData, transformed } from './proto-serializer';
import {
  buildSpec,
  classValidatorProperties,
  declaredProtoFields,
  SerializerSpec,
  withClassTransformer,
  withValidateNested,
} from './serializer-spec';
import { markDefaults } from './default-hooks';
import {
  CheckedRows,
  databaseViolations,
  missingRelations,
  refusalInWordsOfValidation,
  refusalToExplain,
  takenValues,
} from './database-checks';

/** An entity class, as MikroORM knows it. */
export type EntityClass<T extends object = object> = new (...args: never[]) => T;

export interface ModelProtoSerializerOptions {
  /** Entity properties to serialize, or `'__all__'` (scalars and owned relations). @default '__all__' */
  fields?: readonly string[] | '__all__';
  /** Properties to leave out of `'__all__'`. @default [] */
  exclude?: readonly string[];
  /** Properties sent to clients but never written from a message (primary keys and generated columns always are). @default [] */
  readOnlyFields?: readonly string[];
  /** Adjustments of derived fields, by property, e.g. `{ email: { allowBlank: true } }`. @default {} */
  fieldOptions?: Readonly<Record<string, FieldOptions>>;
}

const populateCache = new WeakMap<Function, readonly string[]>();
const relationsCache = new WeakMap<Function, readonly string[]>();

/**
 * The base of every class made by `ModelProtoSerializer(Entity)`: fields and rules come from
 * the entity's MikroORM metadata, `save()` writes through the call's EntityManager.
 *
 * @publicApi
 */
export class ModelProtoSerializerBase<T extends object = object> extends ProtoSerializer<T> {
  static entity: EntityClass;
  static modelOptions: ModelProtoSerializerOptions = {};

  static override buildSpec(this: typeof ModelProtoSerializerBase): SerializerSpec {
    const meta = entityMetadataOf(this.entity, this.name);
    const options = this.modelOptions;
    const declared = declaredProtoFields(this);
    const names = selectFieldNames(meta, options, this.name, declared);
    for (const extra of [...declared.keys(), ...classValidatorProperties(this)]) {
      if (!names.includes(extra)) names.push(extra);
    }
    const readOnly = new Set(options.readOnlyFields ?? []);
    const given = new Map(
      names.map((name): [string, FieldOptions] => [
        name,
        { ...options.fieldOptions?.[name], ...declared.get(name), ...(readOnly.has(name) ? { readOnly: true } : {}) },
      ]),
    );
    const decorated = withClassTransformer(this, names, given, isProtoSerializerClass);
    try {
      withValidateNested(this, decorated.options);
    } catch (error) {
      throw new ImproperlyConfiguredError(`${this.name}: ${(error as Error).message}`);
    }
    const fields = decorated.names.map((name): FieldSpec => {
      const adjust = decorated.options.get(name) ?? {};
      const source = sourceProperty(meta, adjust.source ?? name, `${this.name} field "${name}"`);
      const derived = source ? entityFieldSpec(source.meta, source.prop) : undefined;
      if (adjust.serializer) checkNested(`${this.name} field "${name}"`, adjust.serializer, source?.prop, adjust.readOnly === false);
      try {
        return resolveFieldSpec(name, adjust, derived);
      } catch (error) {
        throw new ImproperlyConfiguredError(`${this.name}: ${(error as Error).message}`);
      }
    });
    return buildSpec(fields, this);
  }

  /** The MikroORM metadata of the entity. */
  static entityMetadata(this: typeof ModelProtoSerializerBase): EntityMetadata {
    return entityMetadataOf(this.entity, this.name);
  }

  /** Relation properties that must be loaded to serialize an instance (collections). */
  static populateFields(this: typeof ModelProtoSerializerBase): readonly string[] {
    // Asked on every Retrieve and List: computed once per class.
    let fields = populateCache.get(this);
    if (!fields) {
      const collections = this.spec()
        .readable.filter((f) => f.kind === 'relations' && !f.path)
        .map((f) => f.property);
      fields = [...new Set([...collections, ...this.relationsRead()])];
      populateCache.set(this, fields);
    }
    return fields;
  }

  /**
   * Relations whose objects the serializer reads, not only their keys: those of nested objects
   * (with what their serializers read) and those on the way of dotted sources (`author.name`).
   * A saved object's references to them are loaded before it is sent.
   */
  static relationsRead(this: typeof ModelProtoSerializerBase): readonly string[] {
    let relations = relationsCache.get(this);
    if (!relations) {
      const readable = this.spec().readable;
      const throughRelations = readable.filter((f) => f.path).map((f) => f.path!.slice(0, -1).join('.'));
      const nested = readable
        .filter((f) => f.serializer && !f.path)
        .flatMap((f) => [f.property, ...nestedPopulate(f.serializer!, [this]).map((inner) => `${f.property}.${inner}`)]);
      relations = [...new Set([...throughRelations, ...nested])];
      relationsCache.set(this, relations);
    }
    return relations;
  }

  private get model(): typeof ModelProtoSerializerBase {
    return this.constructor as typeof ModelProtoSerializerBase;
  }

  protected get em(): EntityManager {
    const em = this.context.em;
    if (!em) {
      throw new ImproperlyConfiguredError(
        `${this.constructor.name} needs an EntityManager to save: pass { context: { em } } (services do this for you).`,
      );
    }
    return em;
  }

  /**
   * Saves as `ProtoSerializer.save` does; when the database refuses the write after validation
   * passed (a concurrent call took the unique value, or deleted the related row), the error names
   * the field, as validation would have.
   */
  override async save(extra: SerializerData = {}): Promise<T> {
    try {
      return await super.save(extra);
    } catch (error) {
      if (!(error instanceof UniqueConstraintViolationException || error instanceof ForeignKeyConstraintViolationException)) throw error;
      // Inside a transaction the database may not answer until it rolls back (PostgreSQL aborts
      // it): the transaction explains the refusal once it has (`explainRefusal`).
      if (this.em.isInTransaction()) {
        throw refusalToExplain(error, this.em, this);
      }
      throw await this.refusalOf(error);
    }
  }

  /** @internal The refusal in the words of validation, when the database shows which field it was; else the error. */
  refusalOf(error: unknown): Promise<unknown> {
    return refusalInWordsOfValidation(this.em, error, this);
  }

  protected override async create(data: SerializerData): Promise<T> {
    // A service's plan may have decided its Create's object only becomes the response.
    const created = this.context.creator?.create(this as ProtoSerializer<object>, this.entityData(data));
    if (created) return (await created) as T;
    const entity = this.em.create(this.model.entity as EntityClass<T>, this.entityData(await this.withNestedSaved(data)) as never, {
      persist: false,
    });
    await OneRowInsert.save(this.em, entity);
    await this.saveNestedLists(entity);
    return entity;
  }

  protected override async update(instance: T, data: SerializerData): Promise<T> {
    this.em.assign(instance, this.entityData(await this.withNestedSaved(data)) as never);
    await this.em.flush();
    return instance;
  }

  /**
   * The data with each writable nested to-one object saved first (created, or the related object
   * updated in place) and replaced by it; data `save()` was given instead is left alone.
   */
  private async withNestedSaved(data: SerializerData): Promise<SerializerData> {
    if (!this.nestedWrites.size) return data;
    const saved = { ...data };
    for (const [property, { field, serializers }] of this.nestedWrites) {
      const nestedData = field.kind === 'relations' ? this.validatedData[property] : serializers[0].validatedData;
      if (saved[property] !== nestedData) continue;
      // A list is saved after the object it points back to (`saveNestedLists`).
      if (field.kind === 'relations') delete saved[property];
      else saved[property] = await serializers[0].save();
    }
    return saved;
  }

  /** Saves the messages of writable nested lists as new objects of a just-created parent. */
  private async saveNestedLists(parent: T): Promise<void> {
    for (const [property, { field, serializers }] of this.nestedWrites) {
      if (field.kind !== 'relations' || !Array.isArray(this.validatedData[property])) continue;
      for (const serializer of serializers) await serializer.save({ [field.target!.mappedBy!]: parent });
    }
  }

  /** The related object of the instance, loaded (a nested message may update only some of its fields). */
  protected override async relatedForWrite(field: FieldSpec): Promise<object | null> {
    await this.em.populate(this.instance as T, [field.property] as never);
    const related = (this.instance as Record<string, unknown>)[field.property];
    return related == null ? null : Reference.unwrapReference(related as object);
  }

  /**
   * The data that is the entity's to store: fields that are no entity property (a write-only
   * password a service hashes into another property) stay in `validatedData` for the hooks.
   */
  private entityData(data: SerializerData): SerializerData {
    const properties = this.model.entityMetadata().properties;
    const stored: SerializerData = {};
    for (const key of Object.keys(data)) if (Object.prototype.hasOwnProperty.call(properties, key)) stored[key] = data[key];
    return stored;
  }

  protected override toRepresentation(instance: T): SerializerData {
    const data: SerializerData = {};
    const source = instance as Record<string, unknown>;
    for (const field of this.spec.readable) {
      data[field.name] = this.fieldValue(field, instance, source);
      if (field.transforms?.toMessage.length)
        data[field.name] = transformed(field, field.transforms.toMessage, data[field.name], instance, CLASS_TO_PLAIN);
    }
    return data;
  }

  /** One field's outgoing value for an instance. */
  private fieldValue(field: FieldSpec, instance: T, source: Record<string, unknown>): unknown {
    if (field.computed) return this.computedValue(field, instance);
    const value = field.path ? readPath(source, field.path) : source[field.property];
    // A to-one relation may be held through a Reference wrapper.
    if (field.serializer)
      return this.nestedValue(field, value != null && field.kind === 'relation' ? Reference.unwrapReference(value as object) : value);
    if (field.kind === 'relation') return value == null ? null : primaryKeyOf(value, field);
    if (field.kind === 'relations') return collectionIds(value, field);
    // SQLite keeps a decimal as a number (24.5): send it with the column's scale (24.50), as PostgreSQL does.
    if (field.kind === 'decimal' && field.scale !== undefined && value != null) return formatDecimal(String(value), field.scale);
    // A nullable column that was never set is stored as NULL, so it is sent as null.
    return value === undefined && field.nullable ? null : value;
  }

  protected override async checkAgainstDatabase(data: SerializerData, fields: readonly FieldSpec[]): Promise<FieldViolation[]> {
    // Read only when a field needs it: a service's context forks an EntityManager on first read.
    return databaseViolations(() => this.context.em, this.checkedRows(), data, fields);
  }

  protected override validationError(violations: FieldViolation[]): ValidationFailedError {
    const onlyUnique = violations.every((v) => v.reason === 'UNIQUE');
    return new ValidationFailedError(violations, onlyUnique ? status.ALREADY_EXISTS : status.INVALID_ARGUMENT);
  }

  /**
   * Which unique fields of the validated data are already taken; used to name the field when
   * the database's unique index, not validation, caught a duplicate (two concurrent creates).
   */
  uniqueViolations(em: EntityManager): Promise<FieldViolation[]> {
    return takenValues(em, this.checkedRows(), this.validatedData, this.spec.writable);
  }

  /** Which related ids of the validated data do not exist; used when a foreign key refused the write. */
  relationViolations(em: EntityManager): Promise<FieldViolation[]> {
    return missingRelations(em, this.validatedData, this.spec.writable);
  }

  /** The rows a unique value is checked against: the entity's, but for the instance being updated. */
  private checkedRows(): CheckedRows {
    const meta = this.model.entityMetadata();
    const pk = meta.primaryKeys[0];
    const excluding = this.instance && !this.many ? { property: pk, value: (this.instance as Record<string, unknown>)[pk] } : undefined;
    return { meta, excluding };
  }
}

markDefaults(ModelProtoSerializerBase.prototype, ['save', 'create', 'update', 'toRepresentation']);

/** Whether a serializer class was made by `ModelProtoSerializer(Entity)`. */
export function isModelSerializerClass(cls: Function): cls is typeof ModelProtoSerializerBase {
  return cls.prototype instanceof ModelProtoSerializerBase;
}

/**
 * Makes a serializer class for an entity. Extend it to add class-validator rules or to
 * override `messageToData` / `dataToMessage`:
 *
 * ```ts
 * export class PostProtoSerializer extends ModelProtoSerializer(Post, { fields: ['id', 'title', 'content'] }) {}
 * ```
 *
 * @publicApi
 */
export function ModelProtoSerializer<T extends object>(
  entity: EntityClass<T>,
  options: ModelProtoSerializerOptions = {},
): typeof ModelProtoSerializerBase<T> {
  if (typeof entity !== 'function') {
    throw new ImproperlyConfiguredError('ModelProtoSerializer(Entity) needs an entity class as its first argument.');
  }
  class ModelSerializer extends ModelProtoSerializerBase<T> {
    static override entity = entity as EntityClass;
    static override modelOptions = options;
  }
  Object.defineProperty(ModelSerializer, 'name', { value: `ModelProtoSerializer(${entity.name})` });
  return ModelSerializer;
}

function selectFieldNames(
  meta: EntityMetadata,
  options: ModelProtoSerializerOptions,
  user: string,
  declared: ReadonlyMap<string, FieldOptions>,
): string[] {
  const fields = options.fields ?? '__all__';
  if (fields === '__all__') {
    const exclude = new Set(options.exclude ?? []);
    return defaultFieldNames(meta).filter((name) => !exclude.has(name));
  }
  // A field that names its source may be called anything.
  const hasSource = (name: string) => !!(options.fieldOptions?.[name]?.source ?? declared.get(name)?.source);
  const unknown = fields.filter((name) => !(name in meta.properties) && !hasSource(name));
  if (unknown.length) {
    throw new ImproperlyConfiguredError(
      `${user}: ${unknown.map((n) => `"${n}"`).join(', ')} ${unknown.length > 1 ? 'are' : 'is'} not ` +
        `${unknown.length > 1 ? 'properties' : 'a property'} of entity ${meta.className}. ` +
        `Known properties: ${Object.keys(meta.properties).join(', ')}.`,
    );
  }
  return [...fields];
}

/** Nested serializers go at most this deep (a serializer that nests itself would never end). */
const MAX_NESTING = 5;

/** What a nested serializer needs loaded, relative to its object; refuses nesting that loops. */
function nestedPopulate(nested: Function, outer: readonly Function[]): readonly string[] {
  if (outer.includes(nested) || outer.length >= MAX_NESTING) {
    throw new ImproperlyConfiguredError(
      `${outer.map((c) => c.name).join(' > ')} > ${nested.name}: nested serializers loop or go deeper than ${MAX_NESTING}; send a key instead somewhere on the way.`,
    );
  }
  if (!isModelSerializerClass(nested)) return [];
  const readable = nested.spec().readable;
  const own = readable
    .filter((f) => (f.kind === 'relations' && !f.serializer) || f.path)
    .map((f) => (f.path ? f.path.slice(0, -1).join('.') : f.property));
  const deeper = readable
    .filter((f) => f.serializer && !f.path)
    .flatMap((f) => [f.property, ...nestedPopulate(f.serializer!, [...outer, nested]).map((inner) => `${f.property}.${inner}`)]);
  return [...own, ...deeper];
}

/**
 * A nested serializer must serve a relation, and, when it is a model serializer, the related
 * entity; a writable one must save the related objects with a model serializer, through a
 * relation whose rows it can write (to-one it owns, or one-to-many).
 */
function checkNested(field: string, nested: Function, prop: EntityProperty | undefined, writable: boolean): void {
  const relation = prop && prop.kind !== ReferenceKind.SCALAR && prop.kind !== ReferenceKind.EMBEDDED;
  if (!relation)
    throw new ImproperlyConfiguredError(
      `${field}: a nested serializer (${nested.name}) needs a relation to serialize; ${prop ? `${prop.name} is a column` : 'the field names no property'}.`,
    );
  if (writable) {
    if (!isModelSerializerClass(nested))
      throw new ImproperlyConfiguredError(
        `${field}: a writable nested object is saved by its serializer, so ${nested.name} must be a ModelProtoSerializer.`,
      );
    const owned =
      prop.kind === ReferenceKind.MANY_TO_ONE ||
      (prop.kind === ReferenceKind.ONE_TO_ONE && prop.owner) ||
      prop.kind === ReferenceKind.ONE_TO_MANY;
    if (!owned) {
      throw new ImproperlyConfiguredError(
        `${field}: writable nested objects need a many-to-one, an owning one-to-one or a one-to-many relation; ${prop.name} is ${prop.kind}. Send keys for it instead (a field without a serializer).`,
      );
    }
  }
  if (isModelSerializerClass(nested) && nested.entity.name !== prop.type) {
    throw new ImproperlyConfiguredError(`${field}: ${nested.name} serializes ${nested.entity.name}, but ${prop.name} holds ${prop.type}.`);
  }
}

/**
 * The entity property a field's source names, walking a dotted path through to-one relations
 * (`author.name`); undefined for a name that is no property (a field the serializer declares
 * itself). Throws, naming the field, for a path that does not exist.
 */
function sourceProperty(meta: EntityMetadata, source: string, field: string): { meta: EntityMetadata; prop: EntityProperty } | undefined {
  const segments = source.split('.');
  let current = meta;
  for (const [i, segment] of segments.entries()) {
    const prop = current.properties[segment as keyof typeof current.properties] as EntityProperty | undefined;
    if (!prop) {
      if (segments.length === 1) return undefined;
      throw new ImproperlyConfiguredError(
        `${field}: source "${source}": ${current.className} has no property "${segment}" (properties: ${Object.keys(current.properties).join(', ')}).`,
      );
    }
    if (i === segments.length - 1) return { meta: current, prop };
    const toOne = prop.kind === ReferenceKind.MANY_TO_ONE || prop.kind === ReferenceKind.ONE_TO_ONE || prop.kind === ReferenceKind.EMBEDDED;
    if (!toOne || !prop.targetMeta) {
      throw new ImproperlyConfiguredError(
        `${field}: source "${source}": ${current.className}.${segment} is not a to-one relation, so the path cannot go through it.`,
      );
    }
    current = prop.targetMeta;
  }
  return undefined;
}

/** The value at a path of properties, through loaded relations; null once a relation on the way is null. */
function readPath(source: Record<string, unknown>, path: readonly string[]): unknown {
  let value: unknown = source;
  for (const segment of path) {
    if (value == null) return null;
    const object = Reference.unwrapReference(value as object) as Record<string, unknown>;
    if (object !== source && Utils.isEntity(object) && !wrap(object, true).isInitialized()) {
      throw new Error(`${segment} of a ${object.constructor.name} that is not loaded was read: populate the relations of dotted sources.`);
    }
    value = object[segment];
  }
  return value;
}

function primaryKeyOf(value: unknown, field: FieldSpec): unknown {
  // Read as columns, a to-one relation is already its key, or (a nested object) the related row.
  if (typeof value !== 'object' || value instanceof Date) return value;
  const entity = Reference.unwrapReference(value as object);
  if (!Utils.isEntity(entity)) return (entity as Record<string, unknown>)[field.target?.primaryKey ?? 'id'];
  return wrap(entity, true).getPrimaryKey();
}

function collectionIds(value: unknown, field: FieldSpec): unknown[] {
  if (value instanceof Collection) return value.getIdentifiers();
  if (Array.isArray(value)) return value.map((item) => primaryKeyOf(item, field));
  return [];
}
