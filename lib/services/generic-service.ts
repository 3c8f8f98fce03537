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
  ProtoSerializer,
  ProtoSerializerClass,
  SerializerContext,
  SerializerOptions,
} from '../serializers/proto-serializer';
import { toSnakeCase } from '../serializers/field-spec';
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
   * Runs a write in a transaction. When the database refuses it after validation passed (a
   * concurrent call took the unique value, or deleted the related row), the error names the
   * field, as validation would.
   */
  protected async writeInTransaction<R>(work: () => Promise<R>, serializer: () => ProtoSerializer<T> | undefined): Promise<R> {
    try {
      return await this.inTransaction(work);
    } catch (error) {
      const model = serializer() as unknown as ModelProtoSerializerBase<T> | undefined;
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
