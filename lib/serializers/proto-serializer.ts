import { EntityManager, Reference } from '@mikro-orm/core';
import { FieldViolation, groupByField, ValidationFailedError } from '../errors/grpc-error';
import { ImproperlyConfiguredError } from '../errors/improperly-configured.error';
import type { CallContext } from '../call/call-context';
import { DEFAULT_MAX_ITEMS, FieldSpec, resolveFieldSpec } from './field-spec';
import { isSent, listItems, nestedBatchFields, nestedObjects, nestedViolations } from './nested-fields';
import { validateFieldValue } from './field-kinds';
import { choiceOfEnumName } from '../proto/enum-names';
import { CLASS_TO_PLAIN, PLAIN_TO_CLASS, TransformFn } from './class-transformer-decorations';
import { buildSpec, declaredProtoFields, SerializerSpec, withClassTransformer, withValidateNested } from './serializer-spec';
import { markDefaults } from './default-hooks';
import { chosenAlternatives, classValidatorViolations, redacted } from './message-validation';

/** A proto message as handlers see it: field names as in the .proto. */
export type ProtoMessage = Record<string, unknown>;
/** Plain data keyed by property name. */
export type SerializerData = Record<string, unknown>;

/** What a serializer may need from the call: the request, the call, the service and the call's EntityManager. */
export interface SerializerContext {
  request?: unknown;
  /** The call being served. */
  call?: CallContext;
  /** The service instance serving it. */
  service?: unknown;
  /** Who is calling (`CallContext.user`): null for an anonymous call. */
  user?: unknown;
  em?: EntityManager;
  /** Writes a Create's new object as the service's plan decided (a model service's context has one during a Create). */
  creator?: ObjectCreator;
  [key: string]: unknown;
}

/**
 * How a serializer's `create` writes its new object when the service's plan decided it only
 * becomes the response: inserted from the validated data, without an entity an EntityManager
 * manages (see `grpc-framework check`).
 */
export interface ObjectCreator {
  /** The inserted object, or undefined when this serializer, now, must make a managed entity. */
  create(serializer: ProtoSerializer<object>, data: Record<string, unknown>): Promise<object> | undefined;
}

export interface SerializerOptions {
  /** An incoming message to validate and save. */
  message?: ProtoMessage;
  /** The instance argument is a list; `.message` is then a list of messages. @default false */
  many?: boolean;
  /** Only the fields present in the message are validated and changed. @default false */
  partial?: boolean;
  context?: SerializerContext;
  /**
   * Properties the caller passes to `save()` itself (the parent of a nested object, an owner):
   * their fields are neither read from the message nor required. @default []
   */
  setBySave?: readonly string[];
}

/** The serializers of a writable nested field, validated with the object and saved with it. */
export interface NestedWrite {
  readonly field: FieldSpec;
  /** One serializer for a to-one relation, one per message for a list. */
  readonly serializers: readonly ProtoSerializer<object>[];
}

export interface IsValidOptions {
  /** Throw a `ValidationFailedError` (INVALID_ARGUMENT, or ALREADY_EXISTS for uniqueness) instead of returning false. */
  raiseException?: boolean;
}

/** The constructor type of a serializer class, as services refer to it. */
export type ProtoSerializerClass<TInstance extends object = object> = (new (
  instance?: TInstance | readonly TInstance[] | null,
  options?: SerializerOptions,
) => ProtoSerializer<TInstance>) & {
  /** The class's fields, resolved once. */
  spec(): SerializerSpec;
};

const specs = new WeakMap<Function, SerializerSpec>();

/**
 * Converts between proto messages, validated data and objects, like a Django REST framework
 * serializer that reads and writes messages:
 *
 * - `new S(instance).message` (or `new S(list, { many: true }).messages`) serializes;
 * - `new S(null, { message })`, then `await s.isValid({ raiseException: true })`,
 *   `s.validatedData`, `s.errors`, `await s.save()` deserializes;
 * - `new S(instance, { message, partial: true })` updates only what the message carries.
 *
 * The first argument is always the instance (or list, or null) and the second the options.
 *
 * Declare fields with `@ProtoField()` and add class-validator decorators for extra rules.
 * Override `messageToData` / `dataToMessage` to change how messages map to data.
 *
 * @publicApi
 */
export class ProtoSerializer<TInstance extends object = SerializerData> {
  instance?: TInstance | readonly TInstance[] | null;
  readonly initialMessage?: ProtoMessage;
  readonly many: boolean;
  readonly partial: boolean;
  readonly context: SerializerContext;
  private validated?: SerializerData;
  private violations?: FieldViolation[];
  /** Values of batch computed fields, by field name and object (`load()`). */
  private batchValues?: Map<string, Map<object, unknown>>;
  /** Loaded serializers of nested fields with batch computed fields, by field name (`load()`). */
  private nestedLoaders?: Map<string, ProtoSerializer<object>>;
  /** While `dataBeforeLoad` is read: batch computed fields not run yet are left out. */
  private withoutBatchFields = false;
  private readonly setBySave?: ReadonlySet<string>;
  /** The nested objects `isValid()` validated, by the property they write; `save()` saves them. */
  protected nestedWrites = new Map<string, NestedWrite>();

  constructor(instance?: TInstance | readonly TInstance[] | null, options?: SerializerOptions) {
    this.instance = instance;
    this.initialMessage = options?.message;
    this.many = options?.many ?? false;
    this.partial = options?.partial ?? false;
    this.context = options?.context ?? {};
    if (options?.setBySave?.length) this.setBySave = new Set(options.setBySave);
  }

  /** The fields read from this serializer's messages: the writable ones, less those `save()` is given. */
  protected get writableFields(): readonly FieldSpec[] {
    const given = this.setBySave;
    return given ? this.spec.writable.filter((field) => !given.has(field.property)) : this.spec.writable;
  }

  /** The fields of this serializer class, resolved once per class. */
  static spec(this: Function): SerializerSpec {
    let spec = specs.get(this);
    if (!spec) {
      spec = (this as unknown as { buildSpec(): SerializerSpec }).buildSpec();
      specs.set(this, spec);
    }
    return spec;
  }

  /** Builds the field list; `ModelProtoSerializer` overrides it to read entity metadata. */
  static buildSpec(this: Function): SerializerSpec {
    const declared = declaredProtoFields(this);
    const { names, options } = withClassTransformer(this, [...declared.keys()], declared, isProtoSerializerClass);
    withValidateNested(this, options);
    const fields = names.map((name) => resolveFieldSpec(name, options.get(name) ?? {}));
    return buildSpec(fields, this);
  }

  protected get spec(): SerializerSpec {
    return (this.constructor as typeof ProtoSerializer).spec();
  }

  /**
   * Runs the batch computed fields (`@ComputedField({ batch: true })`) once for all the objects
   * this serializer sends, so `message` / `messages` can be read; the services call it. Does
   * nothing for a serializer without such fields.
   */
  load(): Promise<this> {
    // Most serializers have nothing to load: no async step for them.
    return this.loadsBatches ? this.loadBatches() : Promise.resolve(this);
  }

  /** Whether `load()` has batch computed fields to run (its own or nested serializers'), so `message(s)` must wait for it. */
  get loadsBatches(): boolean {
    return !!this.instance && (this.spec.batchFields.length > 0 || nestedBatchFields(this.constructor as ProtoSerializerClass).length > 0);
  }

  private async loadBatches(): Promise<this> {
    const objects = (this.many ? this.instance : [this.instance]) as readonly TInstance[];
    await this.loadNested(objects);
    const fields = this.spec.batchFields;
    if (!fields.length) return this;
    this.batchValues = new Map();
    for (const field of fields) {
      const method = (this as unknown as Record<string, (objects: readonly TInstance[]) => Promise<readonly unknown[]>>)[field.name];
      const values = await method.call(this, objects);
      if (!Array.isArray(values) || values.length !== objects.length) {
        throw new Error(
          `${this.constructor.name}.${field.name} must resolve with one value per object, in order (${objects.length}); it gave ${Array.isArray(values) ? values.length : typeof values}.`,
        );
      }
      this.batchValues.set(field.name, new Map(objects.map((object, i) => [object as object, values[i]])));
    }
    return this;
  }

  /**
   * For nested serializers with batch computed fields: one serializer per field over the nested
   * objects of every object sent, loaded once, which then makes their messages.
   */
  private async loadNested(objects: readonly TInstance[]): Promise<void> {
    const fields = nestedBatchFields(this.constructor as ProtoSerializerClass);
    if (!fields.length) return;
    this.nestedLoaders = new Map();
    for (const field of fields) {
      const nested = objects.flatMap((object) => nestedObjects((object as Record<string, unknown>)[field.property]));
      const loader = new field.serializer!(nested, { many: true, context: this.context }) as ProtoSerializer<object>;
      this.nestedLoaders.set(field.name, await loader.load());
    }
  }

  /** A computed field's value for an object: its method's, or what `load()` computed for the batch. */
  protected computedValue(field: FieldSpec, instance: TInstance): unknown {
    if (field.computed === 'each') return (this as unknown as Record<string, (object: TInstance) => unknown>)[field.name](instance);
    const values = this.batchValues?.get(field.name);
    if (!values && this.withoutBatchFields) return undefined;
    if (!values)
      throw new Error(`${this.constructor.name}.${field.name} is computed per batch: await serializer.load() before reading message(s).`);
    return values.get(instance as object);
  }

  /** A nested object's message (null for none), or a list's messages, made by the field's serializer with this one's context. */
  protected nestedValue(field: FieldSpec, value: unknown): unknown {
    const Nested = field.serializer!;
    const list = listItems(value);
    const loader = this.nestedLoaders?.get(field.name);
    // Before load(), a nested object with batch fields cannot be made: the size check goes without it.
    if (!loader && this.withoutBatchFields && nestedBatchFields(this.constructor as ProtoSerializerClass).includes(field)) return undefined;
    if (loader) {
      // Made by the serializer `load()` ran the nested batch fields with.
      const messageOf = (object: object) => loader.dataToMessage(loader.toRepresentation(object));
      if (list || field.kind === 'relations') return (list ?? []).map(messageOf);
      return value == null ? null : messageOf(Reference.unwrapReference(value as object));
    }
    if (list || field.kind === 'relations') return new Nested(list ?? [], { context: this.context, many: true }).messages;
    return value == null ? null : new Nested(value as object, { context: this.context }).message;
  }

  /** The outgoing message: of the instance, or of the validated data when there is none. */
  get message(): ProtoMessage {
    if (this.many) {
      throw new Error(`${this.constructor.name} was made with { many: true }: read .messages for the list of messages.`);
    }
    if (this.instance) return this.dataToMessage(this.toRepresentation(this.instance as TInstance));
    if (this.validated) return this.dataToMessage(this.validatedToData(this.validated));
    throw new Error(`${this.constructor.name}.message needs an instance, or a successful isValid() first.`);
  }

  /** The outgoing messages of a list (`{ many: true }`). */
  get messages(): ProtoMessage[] {
    if (!this.many) throw new Error(`${this.constructor.name}.messages is for lists: make it with { many: true }, or read .message.`);
    const items = (this.instance ?? []) as readonly TInstance[];
    return items.map((item) => this.dataToMessage(this.toRepresentation(item)));
  }

  /**
   * @internal The instance's data without the batch computed fields, which `load()` has not run:
   * what a write's size check reads before the write, without their queries (they run, and the
   * response's size is checked again, once the object is saved).
   */
  get dataBeforeLoad(): SerializerData {
    this.withoutBatchFields = true;
    try {
      return this.data;
    } finally {
      this.withoutBatchFields = false;
    }
  }

  /** The data of the instance (or, before one is saved, of the validated data), keyed by field name: what `dataToMessage` receives. */
  get data(): SerializerData {
    if (this.instance && !this.many) return this.toRepresentation(this.instance as TInstance);
    return this.validatedToData(this.validatedData);
  }

  /**
   * Validated data (keyed by the property each field writes) as outgoing data (keyed by field
   * name), for the fields that send what they write (not nested objects, not dotted sources).
   */
  validatedToData(validated: SerializerData): SerializerData {
    const data: SerializerData = {};
    for (const field of this.spec.readable) {
      // A nested object is written by key but sent as a message: it is known only once saved.
      if (!field.path && !field.serializer && !field.computed && field.property in validated) data[field.name] = validated[field.property];
    }
    return data;
  }

  /** The cleaned incoming data, keyed by the property each field writes; available after `isValid()` returned true. */
  get validatedData(): SerializerData {
    if (!this.validated) {
      throw new Error(`${this.constructor.name}: call isValid() and check it returned true before reading validatedData.`);
    }
    return this.validated;
  }

  /** @internal The field violations of the last `isValid()`, as the error details carry them. */
  get fieldViolations(): readonly FieldViolation[] {
    return this.violations ?? [];
  }

  /** Field errors by proto field name; empty when valid. Available after `isValid()`. */
  get errors(): Record<string, string[]> {
    if (!this.violations) {
      throw new Error(`${this.constructor.name}: call isValid() before reading errors.`);
    }
    return groupByField(this.violations);
  }

  /** Validates the incoming message. */
  async isValid(options: IsValidOptions = {}): Promise<boolean> {
    if (this.initialMessage === undefined) {
      throw new Error(`${this.constructor.name}: isValid() needs a message: new ${this.constructor.name}({ message }).`);
    }
    const data = this.messageToData(this.initialMessage);
    const { cleaned, violations } = await this.runValidation(data);
    this.violations = violations;
    this.validated = violations.length ? undefined : cleaned;
    if (violations.length && options.raiseException) throw this.validationError(violations);
    return violations.length === 0;
  }

  /** Creates or updates the instance from `validatedData` (plus `extra`), and returns it. */
  async save(extra: SerializerData = {}): Promise<TInstance> {
    const data = { ...this.validatedData, ...extra };
    if (this.instance && !this.many) {
      this.instance = await this.update(this.instance as TInstance, data);
    } else {
      this.instance = await this.create(data);
    }
    return this.instance as TInstance;
  }

  /** Makes a new instance from validated data. */
  protected async create(_data: SerializerData): Promise<TInstance> {
    throw new ImproperlyConfiguredError(`${this.constructor.name} must implement create(data) to save new instances.`);
  }

  /** Applies validated data to an instance. */
  protected async update(_instance: TInstance, _data: SerializerData): Promise<TInstance> {
    throw new ImproperlyConfiguredError(`${this.constructor.name} must implement update(instance, data) to save changes.`);
  }

  /** Object-level validation after the field checks; throw a `ValidationFailedError` to refuse, or return the data. */
  protected async validate(data: SerializerData): Promise<SerializerData> {
    return data;
  }

  /**
   * Incoming message -> data keyed by the property each field writes. Absent fields
   * (`undefined`) are left out; the default maps each writable field from its proto name.
   */
  messageToData(message: ProtoMessage): SerializerData {
    const data: SerializerData = {};
    for (const field of this.writableFields) {
      let value = message[field.protoName];
      if (field.transforms?.fromMessage.length && value !== undefined)
        value = transformed(field, field.transforms.fromMessage, value, message, PLAIN_TO_CLASS);
      if (field.kind === 'enum' && typeof value === 'string' && field.choices && !field.choices.includes(value)) {
        // A proto enum name (GADGET_COLOR_BLUE) stands for the entity's value ('blue').
        const choice = choiceOfEnumName(value, field.choices);
        value = choice === null ? value : choice;
      }
      if (!isSent(field, value)) continue;
      data[field.property] = value;
    }
    return data;
  }

  /** Data keyed by field name -> outgoing message keyed by proto field name. */
  dataToMessage(data: SerializerData): ProtoMessage {
    const message: ProtoMessage = {};
    for (const field of this.spec.readable) {
      const value = data[field.name];
      if (value !== undefined) message[field.protoName] = value;
    }
    return message;
  }

  /** Instance -> data keyed by field name (each read from its property, or its dotted source). */
  protected toRepresentation(instance: TInstance): SerializerData {
    const data: SerializerData = {};
    const source = instance as Record<string, unknown>;
    for (const field of this.spec.readable) {
      if (field.computed) data[field.name] = this.computedValue(field, instance);
      else if (field.serializer) data[field.name] = this.nestedValue(field, source[field.property]);
      else if (field.path)
        data[field.name] = field.path.reduce<unknown>(
          (value, key) => (value == null ? null : (value as Record<string, unknown>)[key]),
          source,
        );
      else data[field.name] = source[field.property];
      if (field.transforms?.toMessage.length)
        data[field.name] = transformed(field, field.transforms.toMessage, data[field.name], instance, CLASS_TO_PLAIN);
    }
    return data;
  }

  /** Checks that depend on the database (existence of related rows, uniqueness); none without a model. */
  protected async checkAgainstDatabase(_data: SerializerData, _fields: readonly FieldSpec[]): Promise<FieldViolation[]> {
    return [];
  }

  protected validationError(violations: FieldViolation[]): ValidationFailedError {
    return new ValidationFailedError(violations);
  }

  private async runValidation(data: SerializerData): Promise<{ cleaned: SerializerData; violations: FieldViolation[] }> {
    const cleaned: SerializerData = {};
    const violations: FieldViolation[] = [];
    const present: FieldSpec[] = [];
    const creating = !this.instance;
    const skipped = chosenAlternatives(this.spec, this.writableFields, this.initialMessage ?? {}, violations, creating && !this.partial);
    this.nestedWrites = new Map();
    for (const field of this.writableFields) {
      if (skipped.has(field)) continue;
      const value = data[field.property];
      if (value === undefined) {
        if (field.required && !this.partial && creating) {
          violations.push({ field: field.protoName, description: 'This field is required.', reason: 'REQUIRED' });
        }
        continue;
      }
      if (field.serializer) {
        // Validated by its own serializer, saved with the object; no database checks of its key here.
        const nested = await this.validateNested(field, value);
        violations.push(...nested.violations);
        if (!nested.violations.length) cleaned[field.property] = nested.value;
        continue;
      }
      const result = validateFieldValue(field, value);
      if (result.ok) {
        cleaned[field.property] = result.value;
        present.push(field);
      } else {
        violations.push({ field: field.protoName, description: result.error });
      }
    }
    if (this.spec.hasClassValidatorRules) {
      violations.push(...(await classValidatorViolations(this.constructor.prototype as object, this.spec, cleaned, present)));
    }
    const failed = new Set(violations.map((v) => v.field));
    const checkable = present.filter((f) => !failed.has(f.protoName));
    violations.push(...(await this.checkAgainstDatabase(cleaned, checkable)));
    if (violations.length) return { cleaned, violations: redacted(violations, this.writableFields, data) };
    try {
      return { cleaned: await this.validate(cleaned), violations };
    } catch (error) {
      if (error instanceof ValidationFailedError)
        return { cleaned, violations: redacted([...error.fieldViolations], this.writableFields, data) };
      throw error;
    }
  }

  /**
   * A writable nested object (or list) validated by its serializer: its violations carry the
   * path (`author.name`, `gadgets[2].name`); the serializers wait in `nestedWrites` for `save()`.
   */
  private async validateNested(field: FieldSpec, value: unknown): Promise<{ value?: unknown; violations: FieldViolation[] }> {
    const Nested = field.serializer!;
    const refuse = (description: string) => ({ violations: [{ field: field.protoName, description }] });
    if (value === null) return field.nullable ? { value: null, violations: [] } : refuse('This field may not be null.');
    if (field.kind === 'relations') {
      if (!Array.isArray(value)) return refuse('Expected a list of messages.');
      if (this.instance) {
        return refuse(`Nested ${field.protoName} are written when the object is created; change them through their own service.`);
      }
      const maxItems = field.maxItems ?? DEFAULT_MAX_ITEMS;
      if (value.length > maxItems) return refuse(`Ensure this field has no more than ${maxItems} elements.`);
      const back = field.target?.mappedBy;
      const serializers = value.map(
        (message: ProtoMessage) => new Nested(null, { message, context: this.context, setBySave: back ? [back] : [] }),
      );
      const violations: FieldViolation[] = [];
      for (const [i, serializer] of serializers.entries())
        violations.push(...(await nestedViolations(serializer, `${field.protoName}[${i}].`)));
      this.nestedWrites.set(field.property, { field, serializers });
      return { value: violations.length ? undefined : serializers.map((s) => s.validatedData), violations };
    }
    if (typeof value !== 'object' || Array.isArray(value) || value instanceof Date) return refuse('Expected a message.');
    const current = this.instance && !this.many ? await this.relatedForWrite(field) : null;
    const serializer = new Nested(current, { message: value as ProtoMessage, partial: this.partial && !!current, context: this.context });
    const violations = await nestedViolations(serializer, `${field.protoName}.`);
    this.nestedWrites.set(field.property, { field, serializers: [serializer] });
    return { value: violations.length ? undefined : serializer.validatedData, violations };
  }

  /** The object a writable nested to-one field of the instance holds, which a nested message updates; null for none. */
  protected async relatedForWrite(field: FieldSpec): Promise<object | null> {
    return ((this.instance as Record<string, unknown>)[field.property] as object | undefined) ?? null;
  }
}

/** Whether a value is a serializer class (what `@Type(() => X)` must name to nest one). */
export function isProtoSerializerClass(value: unknown): value is typeof ProtoSerializer {
  return typeof value === 'function' && (value === ProtoSerializer || value.prototype instanceof ProtoSerializer);
}

/** A value through class-transformer `@Transform()` functions, called as class-transformer calls them. */
export function transformed(field: FieldSpec, fns: readonly TransformFn[], value: unknown, obj: unknown, type: number): unknown {
  for (const fn of fns) value = fn({ value, key: field.name, obj, type, options: {} });
  return value;
}

// Replacing any of these may make a serializer read more of an object, or write more, than its fields.
markDefaults(ProtoSerializer.prototype, ['toRepresentation', 'dataToMessage', 'message', 'messages', 'data', 'validate', 'save']);
