import type { EntityManager, FilterQuery, QueryOrderMap } from '@mikro-orm/core';
import { LockMode } from '@mikro-orm/core';
import { READ_ACTIONS } from '../auth/permissions';
import {
  DEFAULT_LIST_BATCH_SIZE,
  DEFAULT_MAX_BULK_BYTES,
  DEFAULT_MAX_BULK_ITEMS,
  DEFAULT_MAX_PAGE_SIZE,
  DEFAULT_PAGE_SIZE,
} from '../common/constants';
import { ObjectNotFoundError } from '../errors/grpc-error';
import { ImproperlyConfiguredError } from '../errors/improperly-configured.error';
import { PlannedClass, planOf } from '../planning/service-plans';
import { WRITE_HOOKS, WriteAction } from '../plan/service-plan';
import { EntityClass, isModelSerializerClass } from '../serializers/model-proto-serializer';
import type {
  ObjectCreator,
  ProtoMessage,
  ProtoSerializer,
  ProtoSerializerClass,
  SerializerContext,
  SerializerOptions,
} from '../serializers/proto-serializer';
import { toSnakeCase } from '../serializers/field-spec';
import type { FilterFields, ListQuery } from '../querying/list-querying';
import type { KeyValue } from '../call/page-token';
import { equalTo } from '../orm/equal-to';
import { markDefaults } from '../serializers/default-hooks';
import { serializedMessage } from '../serializers/serialized-message';
import { AipFilterBackend, FilterBackend, KeysetPagination, ListCall, PaginationBackend } from '../querying/list-backends';
import { ListBatches } from './list-batches';
import { PageWindow, querysetBatches, rowSizeOf } from './queryset-batches';
import { Service } from './service';
import { idempotently, requestIdOf } from '../idempotency/idempotent-write';
import { requestFingerprint } from '../idempotency/request-fingerprint';
import { databaseErrorKind } from '../errors/to-grpc-status';
import type { RequestRecordStore } from '../call/request-record-store';
import type { CallContext } from '../call/call-context';

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

/** Bytes a written object's response may still gain over its validated data: generated keys, timestamps, defaults. */
const GENERATED_VALUES_HEADROOM = 1024;

/**
 * The base of model services: which entity, which rows (`getQueryset`), how to find one row
 * (`getObject`) and which serializer to use (`getSerializer`), and the steps the actions are
 * made of (`retrieveObject`, `listBatches`, `atomically`, `validateForWrite`, `respond`). Mixins
 * add the rpc handlers.
 *
 * The steps take the fastest path that gives the same result (reading columns straight into
 * messages, a write of one row without a transaction around it); which one, and why not a
 * faster one, is decided once per class (its plan, `plan/`) and listed by `grpc-framework check`.
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
  // The three below are declared, not initialised: `@GrpcModelService` options and subclasses set
  // them on the prototype, which an initialiser on each instance would hide.
  /** Rows read per database query while streaming a List (fewer when rows are large). @default 500 */
  declare listBatchSize: number;
  /**
   * Retrieve and List read only the serializer's columns, straight into messages, when nothing
   * needs entities (see `grpc-framework check` for what this service does, and why). Set it to
   * false to always load entities, e.g. when a serializer reads entity getters. @default true
   */
  declare leanReads: boolean;
  /**
   * `'when-needed'`: a write of one row runs as one statement, one flush in MikroORM's own
   * transaction, anything else in a transaction of the framework's; `'always'`: every write in
   * a transaction of the framework's. @default 'when-needed'
   */
  declare writeTransactions: 'when-needed' | 'always';
  /**
   * The fields List's `filter` may use, by proto field name, with the comparators each allows:
   * `{ title: ['=', '!=', ':'], published: ['<', '<=', '>', '>='] }`. Only fields the serializer
   * sends qualify. Unset: `filter` is refused.
   */
  filterFields?: FilterFields;
  /** The fields List's `order_by` may name (NOT NULL columns the serializer sends). Unset: `order_by` is refused. */
  orderingFields?: readonly string[];
  /**
   * What narrows and orders a List from its request, in order (Django REST framework's
   * `filter_backends`). @default [new AipFilterBackend()]: `filter` and `order_by`, within `filterFields` and `orderingFields`
   */
  declare filterBackends: readonly FilterBackend[];
  /** How a List is paged (Django REST framework's `pagination_class`). @default new KeysetPagination(): `page_size` and `page_token` (AIP-158) */
  declare pagination: PaginationBackend;
  /** The largest `page_size`; a larger one is lowered to it (AIP-158). @default 1000 */
  declare maxPageSize: number;
  /** The page size of a paged List (`ListPage`) whose request sends none. A streaming List without `page_size` sends every row. @default 50 */
  declare defaultPageSize: number;
  /** `ListPage` fills `total_size` with a count of the matching rows (one more query per page). @default false */
  declare countTotal: boolean;
  /** The most messages one `BulkCreate` stream may send; one more is RESOURCE_EXHAUSTED. @default 10000 */
  declare maxBulkItems: number;
  /**
   * The most bytes of messages (as sent) one `BulkCreate` stream may send: they are all held
   * until they are written, within the server's `streamMemoryBytes`. More is RESOURCE_EXHAUSTED. @default 16 MiB
   */
  declare maxBulkBytes: number;

  get entity(): EntityClass<T> {
    return (this.constructor as typeof GenericServiceBase).entity as EntityClass<T>;
  }

  /**
   * The rows this service works on. Override for dynamic behaviour, e.g. per `this.action`
   * or per caller; call it rather than reading options directly.
   */
  getQueryset(): Queryset<T> {
    return this.classQueryset();
  }

  /**
   * The queryset the class's options give (`GenericService(Entity, { where, orderBy })`): what
   * `getQueryset()` returns unless overridden. Start-up decisions read it, without a call (an
   * overridden `getQueryset()` may read `this.user` or `this.request`). @internal
   */
  classQueryset(): Queryset<T> {
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

  /**
   * The object a detail action works on, found by `lookupField`; NOT_FOUND when absent. Inside
   * a write's transaction (any action but List, ListPage and Retrieve) its row is read locked,
   * until the transaction ends.
   */
  async getObject(): Promise<T> {
    const queryset = this.filterQueryset(this.getQueryset());
    const lookupField = this.lookupFieldName();
    const value = this.lookupValue(lookupField);
    const where = { ...(queryset.where as object), [lookupField]: equalTo(value) } as FilterQuery<T>;
    const populate = queryset.populate ?? this.populateFields();
    // A write reads the row it changes locked (FOR UPDATE on PostgreSQL; SQLite's one writer
    // holds its connection): a delete that commits first makes it NOT_FOUND, not a write of nothing.
    const lockMode = this.em.isInTransaction() && !READ_ACTIONS.has(this.action) ? LockMode.PESSIMISTIC_WRITE : undefined;
    const object = await this.em.findOne(queryset.entity, where, { populate: populate as never, lockMode });
    if (!object) throw new ObjectNotFoundError(queryset.entity.name, value);
    await this.checkObjectPermissions(object);
    return object;
  }

  /**
   * Asks the permissions' `hasObjectPermission` about an object (`getObject()` calls it):
   * PERMISSION_DENIED (UNAUTHENTICATED for an anonymous caller), or NOT_FOUND with
   * `hideForbiddenObjects`. Call it yourself when you find objects another way.
   */
  async checkObjectPermissions(object: T): Promise<void> {
    const access = this.context.access;
    if (!access?.checksObjects) return;
    await access.checkObject(
      this.context,
      this,
      object,
      () => new ObjectNotFoundError(this.entity.name, this.lookupValue(this.lookupFieldName())),
    );
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

  /**
   * What serializers receive as `context`: the request, the call, this service and the call's
   * EntityManager (forked when a serializer first reads it: reading columns needs none).
   */
  getSerializerContext(): SerializerContext {
    // A Create's serializer writes through the plan's creator, when the plan has one.
    return new CallSerializerContext(this, this.action === 'Create' ? this.planned().creator : undefined);
  }

  /** A serializer for this call, with the serializer context filled in (and `options.context` over it). */
  getSerializer(instance?: T | readonly T[] | null, options: SerializerOptions = {}): ProtoSerializer<T> {
    const Serializer = this.getSerializerClass();
    const base = this.getSerializerContext();
    // Keys of options.context replace the base's (its `em` getter included) without reading them.
    const context = options.context
      ? (Object.defineProperties(Object.create(base), Object.getOwnPropertyDescriptors(options.context)) as SerializerContext)
      : base;
    return new Serializer(instance ?? null, { ...options, context });
  }

  /**
   * What Retrieve serializes: `getObject()`, or the row's columns when that is all the
   * serializer reads (see `leanReads`). NOT_FOUND when absent.
   */
  async retrieveObject(): Promise<T> {
    const em = this.context.readEm; // no fork for a read of columns
    const lookupField = this.lookupFieldName();
    const value = this.lookupValue(lookupField);
    const planned = this.planned();
    // Object permissions are asked about the object as an entity: no columns then.
    const reading =
      this.context.access?.checksObjects || value === undefined || this.getSerializerClass() !== planned.serializerClass
        ? undefined
        : planned.executor.readOne(em, lookupField, value);
    if (reading === undefined) return this.getObject();
    // Read at once on SQLite's idle connection: nothing to wait for.
    const columns = reading instanceof Promise ? await reading : reading;
    if (columns === null) throw new ObjectNotFoundError(this.entity.name, value);
    return columns as T;
  }

  /**
   * The message of one object, made by `getSerializer(instance)`: at once, or once the
   * serializer's batch computed fields are loaded (`load()`).
   */
  messageOf(instance: T): ProtoMessage | Promise<ProtoMessage> {
    const serializer = this.getSerializer(instance);
    return serializer.loadsBatches ? serializer.load().then((loaded) => loaded.message) : serializer.message;
  }

  /**
   * What the List request asks for, as the service's `filterBackends` and `pagination` read it
   * (by default its `filter`, `order_by`, `page_size` and `page_token`, checked against
   * `filterFields`, `orderingFields` and `maxPageSize`): INVALID_ARGUMENT naming the field for
   * what they refuse. Undefined when it asks for nothing and `defaultPageSize` is not given (a
   * streaming List of every row).
   */
  listQuery(defaultPageSize?: number): ListQuery | undefined {
    const call = this.listCall();
    let where: ListQuery['where'];
    let order: ListQuery['order'];
    let key = this.context.serviceName;
    for (const backend of this.filterBackends) {
      const narrowing = backend.narrowing(call);
      if (!narrowing) continue;
      where = both(where, narrowing.where);
      order = narrowing.order ?? order;
      key += `\n${narrowing.key}`;
    }
    const page = this.pagination.page(call, key, defaultPageSize);
    if (!where && !order && page.size === undefined && !page.after) return undefined;
    return { where, order, after: page.after, pageSize: page.size, key };
  }

  /** This call as List's backends read it. */
  private listCall(): ListCall {
    return { request: this.request as Record<string, unknown>, service: this, context: this.context };
  }

  /**
   * What List streams: the queryset's objects (narrowed, ordered and paged by `query`), read
   * batch by batch as the client takes them (entities, or columns when that is all the
   * serializer reads), stopping when the call ends. Once read, their `nextPageToken` is the
   * next page's when the page ended with rows left.
   */
  listBatches(query?: ListQuery): ListBatches<T> {
    const queryset = this.filterQueryset(this.getQueryset());
    const Serializer = this.getSerializerClass();
    // Read as columns, nested objects come with the rows; entities load their relations.
    const planned = this.planned();
    const reader = queryset.populate?.length || Serializer !== planned.serializerClass ? undefined : planned.executor.reader;
    const populate = reader ? [] : (queryset.populate ?? this.populateFields());
    const em = this.em;
    const page: PageWindow | undefined =
      query && (query.after || query.pageSize !== undefined) ? { after: query.after, size: query.pageSize } : undefined;
    const batches = querysetBatches(
      em,
      { ...queryset, orderBy: orderOf(queryset, query), populate },
      {
        maxRows: this.listBatchSize,
        rowSize: rowSizeOf(Serializer, Serializer.spec().rowBytesEstimate),
        signal: this.context.signal,
        reader,
        memory: this.context.streamMemory,
        room: this.context.responseRoom,
        page,
        narrowing: query?.where,
        shape: query?.key ?? '',
      },
    );
    const key = query?.key ?? '';
    return new ListBatches(batches, em, (after) => this.pagination.nextPageToken(this.listCall(), key, after as KeyValue[]));
  }

  /** How many objects the queryset holds with `query`'s filter (a paged List's `total_size`). */
  countObjects(query?: ListQuery): Promise<number> {
    const queryset = this.filterQueryset(this.getQueryset());
    const where = query?.where ? ({ $and: [queryset.where, query.where()] } as FilterQuery<T>) : queryset.where;
    return this.em.count(queryset.entity, where);
  }

  /**
   * Runs a write so that all of it happens or none, the fastest way that holds for this action
   * and serializer (see `writeTransactions`). For writes of your own actions: they run in a
   * transaction.
   */
  atomically<R>(work: () => Promise<R>): Promise<R> {
    const written = this.write(work);
    // With read-your-writes on, the answer says when the write committed (no extra step otherwise).
    return this.context.marksWrites ? written.then((result) => (this.context.markWritten(), result)) : written;
  }

  /**
   * Runs a read (Retrieve's, ListPage's) where it must run: on the primary, in a read
   * transaction, when the caller echoes a recent write's `x-written-at` (`readYourWritesMs`);
   * else as it is (on a replica when MikroORM has them), and once more on the primary when the
   * replica is unavailable. Without replicas it is just the read.
   */
  readWhereItMust<R>(read: () => Promise<R>): Promise<R> {
    const context = this.context;
    if (context.readsPrimary) return this.inTransaction(read);
    if (!context.readsReplicas) return read();
    return read().catch((error: unknown) =>
      databaseErrorKind(error) === 'unavailable' ? this.inTransaction(read) : Promise.reject(error),
    );
  }

  private write<R>(work: () => Promise<R>): Promise<R> {
    let requestId: string | undefined;
    try {
      requestId = requestIdOf(this.request);
    } catch (error) {
      return Promise.reject(error);
    }
    if (requestId) return idempotently(this, this.requestRecords(), requestId, requestFingerprint(this.request), work);
    const action = this.action;
    if (!(action in WRITE_HOOKS)) return this.inTransaction(work);
    return this.planned().executor.runWrite(action as WriteAction, this.context.readEm, this, work);
  }

  /**
   * Validates the serializer's message (INVALID_ARGUMENT or ALREADY_EXISTS with the fields
   * named), then refuses a write whose deadline has passed or whose response could not be sent
   * (the object's current data with the validated data over it, plus room for generated values,
   * larger than `maxSendMessageLength`): nothing has been written yet.
   */
  async validateForWrite(serializer: ProtoSerializer<T>): Promise<void> {
    await serializer.isValid({ raiseException: true });
    this.context.throwIfDeadlinePassed();
    const current = serializer.instance && !serializer.many ? serializer.dataBeforeLoad : {};
    this.context.assertResponseFits(
      serializer.dataToMessage({ ...current, ...serializer.validatedToData(serializer.validatedData) }),
      GENERATED_VALUES_HEADROOM,
    );
  }

  /**
   * The saved object's message, encoded now, inside the write: one that cannot be sent undoes a
   * write in a transaction instead of leaving it stored behind an error.
   */
  async respond(serializer: ProtoSerializer<T>): Promise<ProtoMessage> {
    // What the response reads through relations (nested objects, dotted sources) may be references only.
    const message = (await serializedMessage(serializer, () => this.em)) as ProtoMessage;
    this.context.encodeResponse(message);
    return message;
  }

  /** The server's store of idempotent writes, for a write whose request has a `request_id`. @internal */
  requestRecords(): RequestRecordStore {
    const records = this.context.requestRecords;
    if (!records) throw new ImproperlyConfiguredError('This call has no store of request ids: serve it through GrpcFrameworkModule.');
    return records;
  }

  /** The plan of this class (decided once, as the server starts). */
  private planned(): PlannedClass {
    return planOf(this, this.context.readEm);
  }

  /** `lookupField`, else the primary key (metadata is the same in every fork, so none is made for it). */
  private lookupFieldName(): string {
    return this.lookupField ?? this.context.readEm.getMetadata().get(this.entity.name).primaryKeys[0];
  }

  /** The request's value for the lookup property: its `lookupRequestField`, else the property in snake_case. */
  private lookupValue(lookupField: string): unknown {
    return (this.request as Record<string, unknown>)[this.lookupRequestField ?? requestFieldName(lookupField)];
  }

  /** Collections the serializer sends, which must be loaded with each object. */
  private populateFields(): readonly string[] {
    const Serializer = this.getSerializerClass();
    return isModelSerializerClass(Serializer) ? Serializer.populateFields() : [];
  }
}

GenericServiceBase.prototype.listBatchSize = DEFAULT_LIST_BATCH_SIZE;
GenericServiceBase.prototype.leanReads = true;
GenericServiceBase.prototype.writeTransactions = 'when-needed';
GenericServiceBase.prototype.maxPageSize = DEFAULT_MAX_PAGE_SIZE;
GenericServiceBase.prototype.filterBackends = [new AipFilterBackend()];
GenericServiceBase.prototype.pagination = new KeysetPagination();
GenericServiceBase.prototype.defaultPageSize = DEFAULT_PAGE_SIZE;
GenericServiceBase.prototype.countTotal = false;
GenericServiceBase.prototype.maxBulkItems = DEFAULT_MAX_BULK_ITEMS;
GenericServiceBase.prototype.maxBulkBytes = DEFAULT_MAX_BULK_BYTES;
markDefaults(GenericServiceBase.prototype, ['getQueryset', 'filterQueryset', 'getObject']);

/** The queryset's order, or the List query's. */
/** Both conditions, ANDed, each made anew per query. */
function both(a: ListQuery['where'], b: ListQuery['where']): ListQuery['where'] {
  if (!a || !b) return a ?? b;
  return () => ({ $and: [a(), b()] });
}

function orderOf<T extends object>(queryset: Queryset<T>, query: ListQuery | undefined): QueryOrderMap<T> {
  return query?.order
    ? (Object.fromEntries(query.order.map((key) => [key.property, key.direction])) as QueryOrderMap<T>)
    : queryset.orderBy;
}

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

const SERVICE = Symbol('service');

/**
 * A call's serializer context. Its EntityManager is the service's, forked only when a serializer
 * reads `em` (reading columns needs none); a class, so making one per call is cheap.
 */
class CallSerializerContext implements SerializerContext {
  [key: string]: unknown;
  readonly request: unknown;
  readonly call: CallContext;
  readonly service: Service;
  readonly user: unknown;
  readonly creator: ObjectCreator | undefined;
  /** The service `em` is read from, apart from `service`, which a caller's `options.context` may replace. */
  private readonly [SERVICE]: Service;

  constructor(service: Service, creator: ObjectCreator | undefined) {
    this.request = service.request;
    this.creator = creator;
    this.call = service.context;
    this.service = service;
    this.user = this.call.user;
    this[SERVICE] = service;
  }

  get em(): EntityManager {
    return this[SERVICE].em;
  }
}
