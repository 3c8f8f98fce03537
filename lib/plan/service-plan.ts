import type { EntityFacts, SerializerFacts, ServiceFacts } from './plan-facts';

/** A path and, when it is not the fastest, why. */
export interface Decision<P> {
  readonly path: P;
  readonly reasons: readonly string[];
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

/**
 * What a one-statement Create inserts: the validated data through an instance of the entity
 * that no EntityManager manages (it only becomes the response), or a managed entity.
 */
export type CreatedObject = 'unmanaged' | 'entity';

/** The columns a reader reads of one entity, and the readers of the nested to-one objects it sends. */
export interface ColumnsPlan {
  readonly entity: string;
  /** Its own columns' properties (the nested objects' relations apart). */
  readonly properties: readonly string[];
  readonly related: readonly { readonly property: string; readonly columns: ColumnsPlan }[];
}

/** The write actions of model services and the hook each one calls. */
export const WRITE_HOOKS = {
  Create: 'performCreate',
  Update: 'performUpdate',
  PartialUpdate: 'performUpdate',
  Destroy: 'performDestroy',
} as const;
export type WriteAction = keyof typeof WRITE_HOOKS;

/**
 * How one service class reads and writes, decided once from its facts: whether Retrieve and
 * List read columns straight into messages (and which), how each write action runs, and what a
 * Create inserts. Every reason a path is not the fastest is listed (`grpc-framework check`).
 */
export interface ServicePlan {
  readonly service: string;
  /** The serializer the plan is for: another one (a `getSerializerClass()` of a call's own) loads entities and writes in a transaction. */
  readonly serializer?: string;
  readonly reads: Decision<'columns' | 'entities'> & { readonly columns?: ColumnsPlan };
  readonly writes: Readonly<Record<WriteAction, Decision<WritePath>>>;
  /** What a one-statement Create inserts; `'entity'` whenever Create is not one statement. */
  readonly create: Decision<CreatedObject>;
  /** Why a new row goes through MikroORM's flush rather than an INSERT compiled once. */
  readonly insertReason?: string;
}

/** Service hooks that, replaced, choose rows per call, so reads go through entities. */
const QUERY_HOOKS = ['getQueryset', 'filterQueryset', 'getObject'] as const;
/** Serializer methods that, replaced, may read more of an object than its fields' columns. */
const INSTANCE_READERS = ['toRepresentation', 'dataToMessage', 'message', 'messages', 'data'] as const;
/** Serializer methods that, replaced, may save more than one row. */
const SAVERS = ['save', 'create', 'update'] as const;

/** The plan of a service class. A pure function of its facts. */
export function decidePlan(facts: ServiceFacts): ServicePlan {
  const writes = {
    Create: decideWrite(facts, 'Create'),
    Update: decideWrite(facts, 'Update'),
    PartialUpdate: decideWrite(facts, 'PartialUpdate'),
    Destroy: decideWrite(facts, 'Destroy'),
  };
  return {
    service: facts.name,
    serializer: facts.serializer?.name,
    reads: decideReads(facts),
    writes,
    create: decideCreated(facts, writes.Create),
    insertReason: facts.entity.insertReason,
  };
}

function decideReads(facts: ServiceFacts): ServicePlan['reads'] {
  const reasons: string[] = [];
  if (facts.leanReads === false) reasons.push('leanReads is false');
  for (const hook of QUERY_HOOKS) if (facts.overridden.includes(hook)) reasons.push(`${hook} is overridden`);
  if (!facts.serializer) reasons.push('no serializer');
  if (reasons.length || !facts.serializer) return { path: 'entities', reasons };
  const entity = facts.entity;
  const order = facts.orderProperties.filter((name) => name in entity.properties);
  const columns = columnsOf(facts.serializer, reasons, order);
  return columns ? { path: 'columns', reasons, columns } : { path: 'entities', reasons };
}

/**
 * The columns a serializer sends (and `extra` ones), its nested to-one objects read by readers of
 * their own; undefined, with the reasons, when it reads more than columns.
 */
function columnsOf(serializer: SerializerFacts, reasons: string[], extra: readonly string[] = []): ColumnsPlan | undefined {
  const read = columnsOnly(serializer, reasons);
  if (!read) return undefined;
  const related: ColumnsPlan['related'][number][] = [];
  for (const field of read.nested) {
    const why: string[] = [];
    const columns = columnsOf(field.serializer, why);
    if (!columns) {
      reasons.push(`${serializer.name} sends nested objects (${field.name}: ${why.join('; ')})`);
      return undefined;
    }
    related.push({ property: field.property, columns });
  }
  const entity = read.entity;
  const properties = [...new Set([...entity.primaryKeys, ...read.columns, ...extra])];
  const unreadable = columnsReasonOf(entity, properties, related);
  if (unreadable) {
    reasons.push(unreadable);
    return undefined;
  }
  return { entity: entity.className, properties, related };
}

/** Why these columns of an entity cannot be read as plain columns (what a column reader refuses). */
function columnsReasonOf(entity: EntityFacts, properties: readonly string[], related: ColumnsPlan['related']): string | undefined {
  if (entity.columnsReason) return entity.columnsReason;
  const notPlain = properties.filter((name) => !entity.properties[name]?.plainColumn);
  if (notPlain.length)
    return `${notPlain.join(', ')} ${notPlain.length > 1 ? 'are' : 'is'} not a plain column (formula, lazy, embedded or not persisted)`;
  const foreign = related.filter(({ property }) => entity.properties[property]?.scalar);
  if (foreign.length) return `${foreign.map((r) => r.property).join(', ')} is not a relation`;
  return undefined;
}

/** What a serializer reads, when it is columns: its own, and nested to-one objects whose serializers read columns too. */
interface ColumnsRead {
  entity: EntityFacts;
  columns: readonly string[];
  nested: readonly { property: string; name: string; serializer: SerializerFacts }[];
}

/** The entity properties a serializer reads, when those are all it reads; else the reasons why not. */
function columnsOnly(serializer: SerializerFacts, reasons: string[]): ColumnsRead | undefined {
  if (!serializer.model || !serializer.entity) {
    reasons.push(`${serializer.name} is not a ModelProtoSerializer`);
    return undefined;
  }
  const entity = serializer.entity;
  const readable = serializer.readable;
  const replaced = INSTANCE_READERS.filter((name) => serializer.overridden.includes(name));
  if (replaced.length) reasons.push(`${serializer.name} overrides ${replaced.join(', ')}`);
  const collections = readable.filter((f) => f.collection).map((f) => f.property);
  if (collections.length) reasons.push(`${serializer.name} sends collections (${collections.join(', ')})`);
  const computed = readable.filter((f) => !(f.property in entity.properties)).map((f) => f.name);
  if (computed.length) reasons.push(`${serializer.name} sends fields that are not entity properties (${computed.join(', ')})`);
  const throughRelations = readable.filter((f) => f.throughRelations).map((f) => f.name);
  if (throughRelations.length) reasons.push(`${serializer.name} sends fields read through relations (${throughRelations.join(', ')})`);
  if (replaced.length || collections.length || computed.length || throughRelations.length) return undefined;
  const nested = readable.filter((f) => f.nested);
  return {
    entity,
    columns: readable.filter((f) => !f.nested).map((f) => f.property),
    nested: nested.map((f) => ({ property: f.property, name: f.name, serializer: f.nested! })),
  };
}

function decideWrite(facts: ServiceFacts, action: WriteAction): Decision<WritePath> {
  const hook = WRITE_HOOKS[action];
  if (facts.writeTransactions === 'always') return { path: 'transaction', reasons: ["writeTransactions is 'always'"] };
  if (facts.overridden.includes(hook)) return { path: 'transaction', reasons: [`${hook} is overridden`] };
  if (!facts.flushIsAtomic)
    return { path: 'transaction', reasons: ["MikroORM's flush has no transaction of its own (implicitTransactions is off)"] };
  // Its row is read, locked, in the same transaction as the write (see getObject).
  if (action !== 'Create') return { path: 'transaction', reasons: ['it reads the row it changes, locked until it commits'] };
  if (!facts.serializer) return { path: 'transaction', reasons: ['no serializer'] };
  return saveOf(facts.serializer, facts.entity);
}

/** What saving through a serializer amounts to. */
function saveOf(serializer: SerializerFacts, entity: EntityFacts): Decision<WritePath> {
  if (!serializer.model) return { path: 'transaction', reasons: [`${serializer.name} is not a ModelProtoSerializer`] };
  const replaced = SAVERS.filter((name) => serializer.overridden.includes(name));
  if (replaced.length) return { path: 'transaction', reasons: [`${serializer.name} overrides ${replaced.join(', ')}`] };
  if (serializer.entity?.className !== entity.className)
    return { path: 'transaction', reasons: [`${serializer.name} saves another entity`] };
  const nested = serializer.nestedWrites;
  if (nested.length)
    return { path: 'transaction', reasons: [`${serializer.name} writes nested objects (${nested.join(', ')}), rows of their own`] };
  if (serializer.overridden.includes('validate'))
    return { path: 'one-flush', reasons: [`${serializer.name} overrides validate(), which may change other rows`] };
  const collections = serializer.writable.filter((f) => f.collection).map((f) => f.property);
  if (collections.length)
    return { path: 'one-flush', reasons: [`${serializer.name} writes collections (${collections.join(', ')}), rows of their own`] };
  return { path: 'one-statement', reasons: [] };
}

function decideCreated(facts: ServiceFacts, create: Decision<WritePath>): Decision<CreatedObject> {
  const serializer = facts.serializer;
  const reasons: string[] = [];
  if (!serializer || facts.entity.insertReason || create.path !== 'one-statement') return { path: 'entity', reasons };
  // Code of the service's own around the save may use the object as an entity.
  if (facts.overridden.includes('Create')) reasons.push('Create is overridden');
  if (facts.entity.unmanagedReason) reasons.push(facts.entity.unmanagedReason);
  // Its response reads nothing an entity would have and a plain instance lacks.
  const read = columnsOnly(serializer, reasons);
  if (read?.nested.length) reasons.push(`${serializer.name} sends nested objects (${read.nested.map((n) => n.name).join(', ')})`);
  const properties = facts.entity.properties;
  const relations = serializer.writable.filter((field) => properties[field.property]?.scalar === false).map((field) => field.name);
  if (relations.length) reasons.push(`${serializer.name} writes relations (${relations.join(', ')})`);
  return { path: reasons.length ? 'entity' : 'unmanaged', reasons };
}
