import { EntityManager, EntityMetadata, EventType, FilterQuery, ReferenceKind } from '@mikro-orm/core';
import type { CallContext } from '../call/call-context';
import { ColumnReader, CompiledLookup, RelatedColumns } from '../orm/column-reader';
import { withoutImplicitTransactions } from '../orm/mikro-orm-internals';
import { flushIsOneRow } from '../orm/one-row-flush';
import { OneRowInsert } from '../orm/one-row-insert';
import { offerUnmanagedInsert } from '../serializers/unmanaged-insert';
import type { Awaitable } from '../orm/row-queries';
import { ModelProtoSerializerBase } from '../serializers/model-proto-serializer';
import type { SerializerSpec } from '../serializers/serializer-spec';
import { isDefault } from '../serializers/default-hooks';

/** A serializer class, as far as the fast paths look at it. */
export type SerializerClassLike = Function & { spec(): SerializerSpec };

/** What the fast paths need of a model service (`GenericServiceBase` is one). */
export interface PlannedService {
  readonly em: EntityManager;
  readonly context: CallContext;
  readonly action: string;
  readonly leanReads: boolean;
  readonly writeTransactions: 'when-needed' | 'always';
  readonly serializerClass?: SerializerClassLike;
  /** The queryset of the class's options; `getQueryset()` may need a call, which start-up has not. */
  classQueryset(): { entity: Function; where: unknown; orderBy: unknown };
  getSerializerClass(): SerializerClassLike;
  inTransaction<R>(work: () => Promise<R>): Promise<R>;
}

/**
 * How a write of one action runs, fastest first; each is all or nothing:
 * - `'one-statement'`: one INSERT or UPDATE, which the database applies entirely or not at all
 *   by itself, without a transaction around it (Django's `save()` of a plain model);
 * - `'one-flush'`: one `em.flush()`, which MikroORM runs in a transaction of its own;
 * - `'transaction'`: anything else, in a transaction of the framework's (a savepoint inside
 *   an outer one).
 */
export type WritePath = 'one-statement' | 'one-flush' | 'transaction';

/** A path and, when it is not the fastest, why. */
export interface Decision<P> {
  path: P;
  reasons: readonly string[];
}

/**
 * What a one-statement Create inserts: the validated data through an instance of the entity
 * that no EntityManager manages (it only becomes the response), or a managed entity.
 */
export type CreatedObject = 'unmanaged' | 'entity';

/** The write actions and the hook each one calls. */
const WRITE_HOOKS: Readonly<Record<string, string>> = {
  Create: 'performCreate',
  Update: 'performUpdate',
  PartialUpdate: 'performUpdate',
  Destroy: 'performDestroy',
};

/** Service methods that, replaced, choose rows per call, so reads go through entities. */
const QUERY_HOOKS = ['getQueryset', 'filterQueryset', 'getObject'] as const;
/** Serializer members that, replaced, may read more of an object than its fields' columns. */
const INSTANCE_READERS = ['toRepresentation', 'dataToMessage', 'message', 'messages', 'data'] as const;

/**
 * The fast paths of one service class, decided once (when the server starts): whether Retrieve
 * and List read columns straight into messages, and how each write action runs. Everything
 * that makes a path slower is a reason, listed by `grpc-framework check`.
 */
export class FastPaths {
  private readonly lookups = new Map<string, CompiledLookup | null>();
  /** Write decisions by action and serializer class (prototype walks, not for every call). */
  private readonly writes = new Map<string, Map<SerializerClassLike | undefined, Decision<WritePath>>>();
  /** Create's object by serializer class. */
  private readonly creates = new Map<SerializerClassLike | undefined, Decision<CreatedObject>>();

  private constructor(
    /** The serializer class reads were planned for. */
    private readonly serializerClass: SerializerClassLike | undefined,
    readonly reads: Decision<'columns' | 'entities'>,
    private readonly reader: ColumnReader | undefined,
    private readonly meta: EntityMetadata,
    private readonly where: FilterQuery<object>,
    private readonly service: PlannedService,
    /** How Create writes a new row: a statement compiled once, or MikroORM's flush and why. */
    private readonly insert: OneRowInsert | { reason: string },
  ) {}

  static decide(service: PlannedService, em: EntityManager): FastPaths {
    const queryset = service.classQueryset();
    const meta = em.getMetadata().get(queryset.entity.name);
    const serializer = service.serializerClass;
    const reasons: string[] = [];
    let reader: ColumnReader | undefined;
    if (service.leanReads === false) reasons.push('leanReads is false');
    for (const hook of QUERY_HOOKS) if (!isDefault(service, hook)) reasons.push(`${hook} is overridden`);
    if (!serializer) reasons.push('no serializer');
    else if (!reasons.length) {
      const orderProperties = Object.entries(queryset.orderBy as Record<string, unknown>)
        .filter(([name, direction]) => name in meta.properties && typeof direction !== 'object')
        .map(([name]) => name);
      reader = readerOf(em, serializer, reasons, orderProperties);
    }
    const reads: Decision<'columns' | 'entities'> = { path: reader ? 'columns' : 'entities', reasons };
    return new FastPaths(serializer, reads, reader, meta, queryset.where as FilterQuery<object>, service, OneRowInsert.for(em, meta));
  }

  /** Reads columns instead of entities for this call, when the serializer is the one planned for. */
  columnReader(serializer: SerializerClassLike): ColumnReader | undefined {
    return serializer === this.serializerClass ? this.reader : undefined;
  }

  /** The select of one object by `property`, compiled once; undefined when it is not a plain column. */
  private lookup(em: EntityManager, property: string): CompiledLookup | undefined {
    if (!this.reader) return undefined;
    let lookup = this.lookups.get(property);
    if (lookup === undefined) {
      lookup = this.reader.compileLookup(em, this.where, property) ?? null;
      this.lookups.set(property, lookup);
    }
    return lookup ?? undefined;
  }

  /** How `action` writes with `serializer` (the serializer's save decides the rest); asked on every write, answered once. */
  write(action: string, serializer: SerializerClassLike | undefined): Decision<WritePath> {
    let bySerializer = this.writes.get(action);
    if (!bySerializer) this.writes.set(action, (bySerializer = new Map()));
    let decision = bySerializer.get(serializer);
    if (!decision) bySerializer.set(serializer, (decision = this.decideWrite(action, serializer)));
    return decision;
  }

  private decideWrite(action: string, serializer: SerializerClassLike | undefined): Decision<WritePath> {
    const hook = WRITE_HOOKS[action];
    const service = this.service;
    if (service.writeTransactions === 'always') return { path: 'transaction', reasons: ["writeTransactions is 'always'"] };
    if (!hook) return { path: 'transaction', reasons: [`${action} is not a model write`] };
    if (!isDefault(service, hook)) return { path: 'transaction', reasons: [`${hook} is overridden`] };
    // Its row is read, locked, in the same transaction as the write (see getObject).
    if (action !== 'Create') return { path: 'transaction', reasons: ['it reads the row it changes, locked until it commits'] };
    if (!serializer) return { path: 'transaction', reasons: ['no serializer'] };
    return saveOf(serializer, this.meta);
  }

  /** What a one-statement Create of `serializer` inserts through; answered once per serializer class. */
  created(serializer: SerializerClassLike | undefined): Decision<CreatedObject> {
    let decision = this.creates.get(serializer);
    if (!decision) this.creates.set(serializer, (decision = this.decideCreated(serializer)));
    return decision;
  }

  private decideCreated(serializer: SerializerClassLike | undefined): Decision<CreatedObject> {
    const reasons: string[] = [];
    if (!serializer || 'reason' in this.insert) return { path: 'entity', reasons };
    // Code of the service's own around the save may use the object as an entity.
    if (!isDefault(this.service, 'Create')) reasons.push('Create is overridden');
    if (this.insert.unmanagedReason) reasons.push(this.insert.unmanagedReason);
    // Its response reads nothing an entity would have and a plain instance lacks.
    const plan = columnsOnly(serializer, reasons);
    if (plan?.nested.length) reasons.push(`${serializer.name} sends nested objects (${plan.nested.map((n) => n.name).join(', ')})`);
    const properties = this.meta.properties as Record<string, { kind: ReferenceKind } | undefined>;
    const relations = serializer
      .spec()
      .writable.filter((field) => (properties[field.property]?.kind ?? ReferenceKind.SCALAR) !== ReferenceKind.SCALAR)
      .map((field) => field.name);
    if (relations.length) reasons.push(`${serializer.name} writes relations (${relations.join(', ')})`);
    return { path: reasons.length ? 'entity' : 'unmanaged', reasons };
  }

  /**
   * Runs a write of `action` all or nothing, the fastest way its decision allows for this call:
   * inside an outer transaction (a test's) every write takes a savepoint, and a flush stays one
   * statement only while no hook or subscriber (which can be added at run time) joins it. The
   * checks fork no EntityManager: a Create that inserts an unmanaged instance needs none.
   */
  async runWrite<R>(service: PlannedService, serializer: SerializerClassLike | undefined, work: () => Promise<R>): Promise<R> {
    const em = service.context.readEm;
    const { path } = this.write(service.action, serializer);
    const flushIsAtomic =
      !em.isInTransaction() && em.getPlatform().supportsTransactions() && em.config.get('implicitTransactions') === true;
    if (path === 'transaction' || !flushIsAtomic) return service.inTransaction(work);
    if (path !== 'one-statement' || !flushIsOneRow(em, this.meta)) return work();
    const unmanaged = service.action === 'Create' && serializer ? this.unmanagedInsert(em, serializer) : undefined;
    if (serializer && unmanaged) return offerUnmanagedInsert(service.context, serializer, unmanaged, work);
    return withoutImplicitTransactions(service.em, work);
  }

  /**
   * The insert of an unmanaged instance for this Create: as decided for the class, on the
   * table's schema, and while no onInit listener (a subscriber may be added at run time) wants
   * an entity; undefined otherwise.
   */
  private unmanagedInsert(em: EntityManager, serializer: SerializerClassLike): OneRowInsert | undefined {
    const insert = this.insert;
    if (!(insert instanceof OneRowInsert) || this.created(serializer).path !== 'unmanaged') return undefined;
    return insert.writesTablesSchema(em) && !em.getEventManager().hasListeners(EventType.onInit, this.meta) ? insert : undefined;
  }

  /**
   * The object Retrieve serializes, read as plain columns through a statement compiled once
   * (null when no row matches); undefined, at once, when this call cannot read it so (another
   * serializer, a lookup that is no plain column, a request without the lookup field).
   */
  retrieveColumns(service: PlannedService, em: EntityManager, lookupField: string, value: unknown): Awaitable<object | null> | undefined {
    const reader = this.columnReader(service.getSerializerClass());
    if (!reader || value === undefined) return undefined;
    const lookup = this.lookup(em, lookupField);
    return lookup ? reader.findOne(em, lookup, value) : undefined;
  }

  /** One line per action the service has: the path it takes and why not a faster one. */
  describe(actions: readonly string[]): string[] {
    const lines: string[] = [];
    for (const action of actions) {
      if (action === 'Retrieve' || action === 'List' || action === 'ListPage') {
        const { path, reasons } = this.reads;
        lines.push(`${action}: ${path === 'columns' ? 'reads columns straight into messages' : `loads entities (${reasons.join('; ')})`}`);
      } else if (WRITE_HOOKS[action]) {
        const { path, reasons } = this.write(action, this.serializerClass);
        const said = {
          'one-statement': 'one statement, without a transaction',
          'one-flush': "one flush, in MikroORM's transaction",
          transaction: 'in a transaction',
        }[path];
        lines.push(
          `${action}: ${said}${reasons.length ? ` (${reasons.join('; ')})` : ''}${action === 'Create' && path === 'one-statement' ? this.describeInsert() : ''}`,
        );
      }
    }
    return lines;
  }

  /** How a new row is written: a statement compiled once, or MikroORM's flush and why. */
  private describeInsert(): string {
    if ('reason' in this.insert) return `, through MikroORM's flush (${this.insert.reason})`;
    const { path, reasons } = this.created(this.serializerClass);
    return path === 'unmanaged'
      ? ' (an INSERT compiled once, from the validated data without a managed entity)'
      : ` (an INSERT compiled once, of a managed entity: ${reasons.join('; ')})`;
  }
}

/**
 * A reader of the columns a serializer sends (and `extra` ones), its nested to-one objects read
 * by readers of their own; undefined, with the reasons, when the serializer reads more than
 * columns.
 */
function readerOf(
  em: EntityManager,
  serializer: SerializerClassLike,
  reasons: string[],
  extra: readonly string[] = [],
): ColumnReader | undefined {
  const plan = columnsOnly(serializer, reasons);
  if (!plan) return undefined;
  const related: RelatedColumns[] = [];
  for (const { property, name, serializer: nested } of plan.nested) {
    const why: string[] = [];
    const reader = readerOf(em, nested, why);
    if (!reader) {
      reasons.push(`${serializer.name} sends nested objects (${name}: ${why.join('; ')})`);
      return undefined;
    }
    related.push({ property, reader });
  }
  const meta = (serializer as unknown as typeof ModelProtoSerializerBase).entityMetadata();
  const made = ColumnReader.create(em, meta, [...meta.primaryKeys, ...plan.columns, ...extra], related);
  if ('reason' in made) {
    reasons.push(made.reason);
    return undefined;
  }
  return made.reader;
}

/** What a serializer reads, when it is columns: its own, and nested to-one objects whose serializers read columns too. */
interface ColumnsPlan {
  columns: readonly string[];
  nested: readonly { property: string; name: string; serializer: SerializerClassLike }[];
}

/** The entity properties a serializer reads, when those are all it reads; else the reason why not. */
function columnsOnly(serializer: SerializerClassLike, reasons: string[]): ColumnsPlan | undefined {
  if (!(serializer.prototype instanceof ModelProtoSerializerBase)) {
    reasons.push(`${serializer.name} is not a ModelProtoSerializer`);
    return undefined;
  }
  const model = serializer as unknown as typeof ModelProtoSerializerBase;
  const meta = model.entityMetadata();
  const readable = model.spec().readable;
  const replaced = INSTANCE_READERS.filter((name) => !isDefault(serializer.prototype, name));
  if (replaced.length) reasons.push(`${serializer.name} overrides ${replaced.join(', ')}`);
  const collections = readable.filter((f) => f.kind === 'relations').map((f) => f.property);
  if (collections.length) reasons.push(`${serializer.name} sends collections (${collections.join(', ')})`);
  const computed = readable.filter((f) => !(f.property in meta.properties)).map((f) => f.name);
  if (computed.length) reasons.push(`${serializer.name} sends fields that are not entity properties (${computed.join(', ')})`);
  const throughRelations = readable.filter((f) => f.path).map((f) => f.name);
  if (throughRelations.length) reasons.push(`${serializer.name} sends fields read through relations (${throughRelations.join(', ')})`);
  const unsent = replaced.length || collections.length || computed.length || throughRelations.length;
  if (unsent) return undefined;
  const nested = readable.filter((f) => f.serializer && f.kind === 'relation' && !f.path);
  return {
    columns: readable.filter((f) => !nested.includes(f)).map((f) => f.property),
    nested: nested.map((f) => ({ property: f.property, name: f.name, serializer: f.serializer as unknown as SerializerClassLike })),
  };
}

/** What saving through a serializer amounts to. */
function saveOf(serializer: SerializerClassLike, meta: EntityMetadata): Decision<WritePath> {
  const proto = serializer.prototype;
  if (!(proto instanceof ModelProtoSerializerBase))
    return { path: 'transaction', reasons: [`${serializer.name} is not a ModelProtoSerializer`] };
  const replaced = ['save', 'create', 'update'].filter((name) => !isDefault(proto, name));
  if (replaced.length) return { path: 'transaction', reasons: [`${serializer.name} overrides ${replaced.join(', ')}`] };
  if ((serializer as unknown as typeof ModelProtoSerializerBase).entity.name !== meta.className) {
    return { path: 'transaction', reasons: [`${serializer.name} saves another entity`] };
  }
  const nested = serializer.spec().nestedWrites.map((f) => f.name);
  if (nested.length)
    return { path: 'transaction', reasons: [`${serializer.name} writes nested objects (${nested.join(', ')}), rows of their own`] };
  if (!isDefault(proto, 'validate'))
    return { path: 'one-flush', reasons: [`${serializer.name} overrides validate(), which may change other rows`] };
  const collections = serializer
    .spec()
    .writable.filter((f) => f.kind === 'relations')
    .map((f) => f.property);
  if (collections.length)
    return { path: 'one-flush', reasons: [`${serializer.name} writes collections (${collections.join(', ')}), rows of their own`] };
  return { path: 'one-statement', reasons: [] };
}

/** Per ORM platform (its SQL), per service class. */
const decided = new WeakMap<object, WeakMap<Function, FastPaths>>();

/** The fast paths of a service's class, decided on first use (the server decides them as it starts). */
export function fastPathsOf(service: PlannedService): FastPaths {
  return fastPathsFor(service, service.context.readEm);
}

/** The fast paths of a service's class on the ORM of `em`, decided once. */
export function fastPathsFor(service: PlannedService, em: EntityManager): FastPaths {
  const platform = em.getPlatform();
  let byClass = decided.get(platform);
  if (!byClass) decided.set(platform, (byClass = new WeakMap()));
  let paths = byClass.get(service.constructor);
  if (!paths) byClass.set(service.constructor, (paths = FastPaths.decide(service, em)));
  return paths;
}
