import {
  FilterQuery,
  ForeignKeyConstraintViolationException,
  QueryOrderMap,
  UniqueConstraintViolationException,
} from '@mikro-orm/core';
import { status } from '@grpc/grpc-js';
import { DEFAULT_LIST_BATCH_SIZE } from '../constants';
import { ObjectNotFoundError, ValidationFailedError } from '../errors/grpc-error';
import { ImproperlyConfiguredError } from '../errors/improperly-configured.error';
import type { EntityClass, ModelProtoSerializerBase } from '../serializers/model-proto-serializer';
import type {
  ProtoMessage,
  ProtoSerializer,
  ProtoSerializerClass,
  SerializerContext,
  SerializerOptions,
} from '../serializers/proto-serializer';
import { toSnakeCase } from '../serializers/field-spec';
import { flushIsOneRow, withoutImplicitTransaction } from '../orm/one-row-flush';
import { leanReadPlan, LeanReadPlan } from './lean-read-plan';
import { Service } from './service';

/** The set of rows a service works on: Django's queryset, as MikroORM query parts. */
export interface Queryset<T extends object> {
  entity: EntityClass<T>;
  /** A base filter every action applies. @default {} */
  where: FilterQuery<T>;
  /** List order; the primary key is appended so pages are stable. @default primary key ascending */
  orderBy: QueryOrderMap<T>;
  /** Relations to load with each object. @default the collections the serializer sends */
  populate?: readonly string[];
}

/**
 * What a write amounts to, which decides how `writeAtomically` makes it all or nothing:
 * `'one-row'` is a flush that inserts or updates one row of the service's entity and nothing
 * else; `'one-flush'` is a single `em.flush()`; `'any'` is anything else.
 */
export type WriteShape = 'one-row' | 'one-flush' | 'any';

/** How `writeAtomically` runs a write. */
export interface AtomicWriteOptions<T extends object> {
  /** What the write amounts to. */
  shape: WriteShape;
  /** The serializer that validated the write, to name the field when the database refuses it. */
  serializer?: () => ProtoSerializer<T> | undefined;
}

export interface GenericServiceOptions<T extends object> {
  /** A base filter for every action. @default {} */
  where?: FilterQuery<T>;
  /** List order. @default primary key ascending */
  orderBy?: QueryOrderMap<T>;
}

/**
 * The base of model services: which entity, which rows (`getQueryset`), how to find one row
 * (`getObject`) and which serializer to use (`getSerializer`). Mixins add the rpc handlers.
 *
 * Configure with the `@GrpcModelService` options or override the attributes and methods here.
 *
 * @publicApi
 */
export class GenericServiceBase<T extends object = object> extends Service {
  /** The entity this service serves. Set by `GenericService(Entity)`. */
  static entity: EntityClass;
  static querysetOptions: GenericServiceOptions<object> = {};

  /** The serializer class. @default the `serializer` option of `@GrpcModelService` */
  serializerClass?: ProtoSerializerClass<T>;
  /** Entity property used by `getObject()`. @default the primary key */
  lookupField?: string;
  /** Request field holding the lookup value. @default `lookupField` in snake_case as the proto names it */
  lookupRequestField?: string;
  /** Rows read per database query while streaming a List. @default 500 */
  declare listBatchSize: number;
  /**
   * Retrieve and List read only the serializer's columns, straight into messages, when the
   * serializer reads nothing else (no collections, no overridden `toRepresentation`) and this
   * service keeps the default `getQueryset`, `filterQueryset`, `getObject` and `getSerializer`:
   * no entities, no identity map, and on SQLite and PostgreSQL a prepared statement. Set it
   * to false to always load entities. @default true
   */
  declare leanReads: boolean;

  get entity(): EntityClass<T> {
    return (this.constructor as typeof GenericServiceBase).entity as EntityClass<T>;
  }

  /**
   * The rows this service works on. Override for dynamic behaviour, e.g. per `this.action`
   * or per caller; call it rather than reading options directly.
   */
  getQueryset(): Queryset<T> {
    const options = (this.constructor as typeof GenericServiceBase).querysetOptions as GenericServiceOptions<T>;
    return {
      entity: this.entity,
      where: options.where ?? ({} as FilterQuery<T>),
      orderBy: options.orderBy ?? ({} as QueryOrderMap<T>),
    };
  }

  /** Narrows a queryset (e.g. from request fields). The default returns it unchanged. */
  filterQueryset(queryset: Queryset<T>): Queryset<T> {
    return queryset;
  }

  /** The object a detail action works on, found by `lookupField`; NOT_FOUND when absent. */
  async getObject(): Promise<T> {
    const queryset = this.filterQueryset(this.getQueryset());
    const lookupField = this.lookupField ?? this.em.getMetadata().get(queryset.entity.name).primaryKeys[0];
    const value = this.lookupValue(lookupField);
    const where = { ...(queryset.where as object), [lookupField]: value } as FilterQuery<T>;
    const populate = queryset.populate ?? this.serializerPopulate();
    const object = await this.em.findOne(queryset.entity, where, { populate: populate as never });
    if (!object) throw new ObjectNotFoundError(queryset.entity.name, value);
    return object;
  }

  /**
   * What Retrieve serializes: the row's columns when that is all the serializer reads (see
   * `leanReads`), else `getObject()`. NOT_FOUND when absent.
   */
  protected async getObjectToSerialize(): Promise<T> {
    const plan = this.leanReadPlan();
    if (!plan) return this.getObject();
    const lookupField = this.lookupField ?? plan.meta.primaryKeys[0];
    const lookup = plan.lookup(this.em, lookupField);
    const value = this.lookupValue(lookupField);
    // A lookup on anything but a plain column, or a request without the field, goes the usual way.
    if (!lookup || value === undefined) return this.getObject();
    const data = await plan.reader.findOne(this.em, lookup, value);
    if (!data) throw new ObjectNotFoundError(plan.meta.className, value);
    return data as T;
  }

  /** The serializer class. @default `serializerClass` */
  getSerializerClass(): ProtoSerializerClass<T> {
    if (!this.serializerClass) {
      throw new ImproperlyConfiguredError(
        `${this.constructor.name} has no serializer: pass \`serializer\` to @GrpcModelService, ` +
          'set `serializerClass`, or override getSerializerClass().',
      );
    }
    return this.serializerClass;
  }

  /** What serializers receive as `context`: the request, the call, this service and the call's EntityManager. */
  getSerializerContext(): SerializerContext {
    return { request: this.request, grpcContext: this.context, service: this, em: this.em };
  }

  /** A serializer for this call, with the serializer context filled in. */
  getSerializer(instance?: T | readonly T[] | null, options: SerializerOptions = {}): ProtoSerializer<T> {
    const Serializer = this.getSerializerClass();
    return new Serializer(instance ?? undefined, { ...options, context: { ...this.getSerializerContext(), ...options.context } });
  }

  /**
   * Runs a write so that all of it happens or none. A write of any shape runs in a transaction
   * (a savepoint inside an outer one). A single flush needs no second transaction around it:
   * MikroORM runs each flush in one. A flush of one row is one statement, which the database
   * applies entirely or not at all, so it runs without a transaction, as Django's `save()`
   * does (see `flushIsOneRow` for when a flush is that). Validation reads then see committed
   * data, as they would inside a READ COMMITTED transaction.
   *
   * When the database refuses the write after validation passed (a concurrent call took the
   * unique value, or deleted the related row), the error names the field, as validation would.
   */
  protected async writeAtomically<R>(work: () => Promise<R>, options: AtomicWriteOptions<T>): Promise<R> {
    try {
      if (options.shape === 'any' || !this.flushIsAtomic()) return await this.inTransaction(work);
      if (options.shape === 'one-row' && flushIsOneRow(this.em, this.em.getMetadata().get(this.entity.name))) {
        return await withoutImplicitTransaction(this.em, work);
      }
      return await work();
    } catch (error) {
      const model = options.serializer?.() as unknown as ModelProtoSerializerBase<T> | undefined;
      const isUnique = error instanceof UniqueConstraintViolationException;
      if ((isUnique || error instanceof ForeignKeyConstraintViolationException) && typeof model?.uniqueViolations === 'function') {
        // The write's transaction is over; look from a fork in the outer transaction, if any (tests).
        const fork = this.em.fork();
        const outer = this.em.getTransactionContext();
        if (outer) fork.setTransactionContext(outer);
        const violations = isUnique ? await model.uniqueViolations(fork) : await model.relationViolations(fork);
        if (violations.length) {
          throw new ValidationFailedError(violations, isUnique ? status.ALREADY_EXISTS : status.INVALID_ARGUMENT);
        }
      }
      throw error;
    }
  }

  /**
   * Refuses, before it is written, a write whose deadline has passed, or whose response could
   * not be sent: the response is the object's current data (on update) with the validated data
   * over it, plus room for the values the database generates. Writes check the real response
   * and the deadline again before they commit (`sendableMessage`, `inTransaction`).
   */
  protected checkBeforeWrite(serializer: ProtoSerializer<T>): void {
    this.context.throwIfDeadlinePassed();
    const current = serializer.instance && !serializer.many ? serializer.data : {};
    this.context.assertResponseFits(serializer.dataToMessage({ ...current, ...serializer.validatedData }), GENERATED_VALUES_HEADROOM);
  }

  /** The serializer's message, encoded now (inside the write, before it commits) so one that cannot be sent undoes the write. */
  protected sendableMessage(serializer: ProtoSerializer<T>): ProtoMessage {
    const message = serializer.message as ProtoMessage;
    this.context.encodeResponse(message);
    return message;
  }

  /**
   * What saving through this service's serializer amounts to: `getSerializer` is the default
   * and the serializer class says (`ModelProtoSerializerBase.savesOneRow`, `savesInOneFlush`).
   */
  protected serializerSaveShape(): WriteShape {
    if (this.getSerializer !== GenericServiceBase.prototype.getSerializer) return 'any';
    const Serializer = this.getSerializerClass() as unknown as typeof ModelProtoSerializerBase;
    if (typeof Serializer.savesOneRow !== 'function' || Serializer.entity !== this.entity) return 'any';
    return Serializer.savesOneRow() ? 'one-row' : Serializer.savesInOneFlush() ? 'one-flush' : 'any';
  }

  /**
   * Whether a flush on this call's EntityManager is all or nothing by itself. Inside an outer
   * transaction (a test's) it is not: a failed statement would leave the outer transaction with
   * half a write (on PostgreSQL, aborted), so the write needs its own savepoint.
   */
  private flushIsAtomic(): boolean {
    const em = this.em;
    return !em.isInTransaction() && em.getPlatform().supportsTransactions() && em.config.get('implicitTransactions') === true;
  }

  /** The request's value for the lookup property: its `lookupRequestField`, else the property in snake_case. */
  private lookupValue(lookupField: string): unknown {
    return (this.request as Record<string, unknown>)[this.lookupRequestField ?? requestFieldName(lookupField)];
  }

  /** How reads go without entities for this call's serializer; undefined when they need entities. */
  protected leanReadPlan(): LeanReadPlan | undefined {
    if (!this.leanReads) return undefined;
    return leanReadPlan(this as unknown as GenericServiceBase<object>, this.getSerializerClass(), this.em, GenericServiceBase.prototype);
  }

  /** Collections the serializer sends, which must be loaded with each object. */
  protected serializerPopulate(): readonly string[] {
    const Serializer = this.getSerializerClass() as unknown as typeof ModelProtoSerializerBase;
    return typeof Serializer.populateFields === 'function' ? Serializer.populateFields() : [];
  }
}

GenericServiceBase.prototype.listBatchSize = DEFAULT_LIST_BATCH_SIZE;
GenericServiceBase.prototype.leanReads = true;

/** Bytes a written object's response may still gain over its validated data: generated keys, timestamps, defaults. */
const GENERATED_VALUES_HEADROOM = 1024;

const requestFieldNames = new Map<string, string>();

/** The request field a lookup property arrives in: the proto's snake_case name (memoized, asked on every call). */
function requestFieldName(property: string): string {
  let name = requestFieldNames.get(property);
  if (name === undefined) requestFieldNames.set(property, (name = toSnakeCase(property)));
  return name;
}

/**
 * The generic service for an entity; compose mixins over it:
 *
 * ```ts
 * export class PostService extends ListModelMixin(RetrieveModelMixin(GenericService(Post))) {}
 * ```
 *
 * @publicApi
 */
export function GenericService<T extends object>(
  entity: EntityClass<T>,
  options: GenericServiceOptions<T> = {},
): typeof GenericServiceBase<T> {
  if (typeof entity !== 'function') {
    throw new ImproperlyConfiguredError('GenericService(Entity) needs an entity class as its first argument.');
  }
  class Generic extends GenericServiceBase<T> {
    static override entity = entity as EntityClass;
    static override querysetOptions = options as GenericServiceOptions<object>;
  }
  Object.defineProperty(Generic, 'name', { value: `GenericService(${entity.name})` });
  return Generic;
}
