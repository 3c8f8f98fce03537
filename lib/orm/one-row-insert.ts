import { EntityManager, EntityMetadata, EntityProperty, ReferenceKind, Utils, wrap } from '@mikro-orm/core';
import { ColumnReader, isOwnColumn } from './column-reader';
import { driverPoolOf, entityIsLoaded, hydrateNew, markInserted, metadataOf, unmanagedEntity } from './mikro-orm-internals';
import { flushIsOneRow } from './one-row-flush';
import { nativePlaceholder, qualifiedTable } from './sql-text';
import { PreparableQuery, runQuery } from './row-queries';

/** An INSERT of one column set, compiled once, returning the columns the database fills in. */
interface CompiledInsert extends PreparableQuery {
  readonly properties: readonly string[];
}

/**
 * Inserts one new entity with one statement compiled once per column set, doing what
 * `em.persist(entity)` and `em.flush()` do for it and nothing else: the properties' `onCreate`
 * values, `validateRequired`, MikroORM's own payload (custom types converted, relations as
 * keys), the generated key and database defaults read back with RETURNING, and the entity
 * registered as managed. Without the unit of work, a flush costs about half of a Create.
 */
export class OneRowInsert {
  private readonly statements = new Map<string, CompiledInsert>();

  private constructor(
    private readonly meta: EntityMetadata,
    private readonly reader: ColumnReader,
    /** Properties the database may fill in (the key, defaults), read back when not sent. */
    private readonly generated: readonly string[],
    /**
     * Why a row cannot be inserted from data through an instance no EntityManager manages
     * (`insertUnmanaged`); undefined when it can.
     */
    readonly unmanagedReason: string | undefined,
  ) {
    this.onCreateTakesEntityManager = meta.hydrateProps.some((prop) => prop.onCreate !== undefined && prop.onCreate.length >= 2);
  }

  /** Whether a property's `onCreate` function takes the EntityManager (its second parameter). */
  readonly onCreateTakesEntityManager: boolean;

  /** The insert for an entity, or why its flush is more than one plain INSERT; answered once per entity and ORM. */
  static for(em: EntityManager, meta: EntityMetadata): OneRowInsert | { reason: string } {
    let byMeta = decided.get(em.getPlatform());
    if (!byMeta) decided.set(em.getPlatform(), (byMeta = new WeakMap()));
    let answer = byMeta.get(meta);
    if (!answer) byMeta.set(meta, (answer = OneRowInsert.decide(em, meta)));
    return answer;
  }

  private static decide(em: EntityManager, meta: EntityMetadata): OneRowInsert | { reason: string } {
    const driver = driverPoolOf(em).driverName;
    if (driver !== 'better-sqlite3' && driver !== 'pg')
      return { reason: `the ${driver} driver is not one the framework compiles inserts for` };
    if (meta.compositePK || meta.primaryKeys.length !== 1) return { reason: `${meta.className} has a composite primary key` };
    if (meta.versionProperty) return { reason: `${meta.className} has a version property` };
    if (meta.discriminatorColumn || meta.virtual || meta.embeddable || meta.readonly)
      return { reason: `${meta.className} uses inheritance or is not a plain table` };
    if (meta.schema === '*') return { reason: `${meta.className} has a wildcard schema` };
    if (em.config.get('validate')) return { reason: "MikroORM's validate option is on" };
    const written = meta.props.filter((prop) => isOwnColumn(prop));
    const other = meta.props.filter((prop) => !written.includes(prop) && prop.persist !== false && !isCollection(prop) && !prop.formula);
    if (other.length)
      return { reason: `${other.map((p) => p.name).join(', ')} ${other.length > 1 ? 'are' : 'is'} not written as one column` };
    const generated = written.filter(
      (prop) => prop.primary || prop.default !== undefined || prop.defaultRaw !== undefined || prop.generated,
    );
    const relation = generated.find((prop) => prop.kind !== ReferenceKind.SCALAR);
    if (relation) return { reason: `${relation.name} is a relation with a database default` };
    const made = ColumnReader.create(
      em,
      meta,
      generated.map((prop) => prop.name),
    );
    if ('reason' in made) return made;
    return new OneRowInsert(
      meta,
      made.reader,
      generated.map((prop) => prop.name),
      unmanagedReasonOf(meta),
    );
  }

  /**
   * Inserts `entity` (made with `em.create(..., { persist: false })`) when a flush would write
   * exactly this row, else persists and flushes it.
   */
  static async save(em: EntityManager, entity: object): Promise<void> {
    const meta = metadataOf(entity);
    const insert = OneRowInsert.for(em, meta);
    if (
      'reason' in insert ||
      !inTablesSchema(em, meta, entity) ||
      !flushIsOneRow(em, meta) ||
      !nothingElseToFlush(em) ||
      !onlyTheRow(meta, entity)
    ) {
      em.persist(entity);
      return em.flush();
    }
    return insert.insert(em, entity);
  }

  /**
   * Inserts a new row from `data` (scalar properties only) through an instance of the entity
   * class that no EntityManager manages: the constructor (which takes and sets nothing), the
   * values converted as `em.create` converts them, held as plain properties, then written as
   * `save` writes an entity. For a write whose object only becomes its response: no identity
   * map and no EntityManager fork, about a fifth of a Create's CPU.
   */
  async insertUnmanaged(em: EntityManager, data: Record<string, unknown>): Promise<object> {
    const values: Record<string, unknown> = {};
    hydrateNew(em, this.meta, values, data);
    const entity = unmanagedEntity(this.meta, values);
    await this.insert(em, entity, false);
    return entity;
  }

  /** Whether `em` writes to the table's schema (the statement names it). */
  writesTablesSchema(em: EntityManager): boolean {
    return sameSchema(em, em.schema ?? this.meta.schema, this.meta.schema);
  }

  private async insert(em: EntityManager, entity: object, managed = true): Promise<void> {
    const values = entity as Record<string, unknown>;
    for (const prop of this.meta.hydrateProps) {
      if (prop.onCreate && values[prop.name] == null) values[prop.name] = prop.onCreate(entity, em);
    }
    if (em.config.get('validateRequired')) em.getValidator().validateRequired(entity);
    const payload = em.getComparator().prepareEntity(entity) as Record<string, unknown>;
    const sent = Object.keys(payload).filter((name) => payload[name] !== undefined);
    const statement = this.statement(em, sent);
    const rows = await runQuery(
      em,
      statement,
      sent.map((name) => payload[name]),
      'write',
    );
    if (statement.properties.length) {
      const returned = this.reader.toData(em, rows[0]);
      for (const name of statement.properties) {
        values[name] = returned[name];
        payload[name] = rows[0][this.meta.properties[name as keyof object].fieldNames[0]];
      }
    }
    if (managed) markInserted(em, entity, payload);
  }

  private statement(em: EntityManager, sent: readonly string[]): CompiledInsert {
    const key = sent.join('\u0000');
    let statement = this.statements.get(key);
    if (!statement) {
      // The key always comes back, so every statement returns a row (better-sqlite3 reads rows only from statements that return some).
      const returning = this.generated.filter((name) => !sent.includes(name) || this.meta.properties[name as keyof object].primary);
      this.statements.set(key, (statement = compileInsert(em, this.meta, sent, returning)));
    }
    return statement;
  }
}

const decided = new WeakMap<object, WeakMap<EntityMetadata, OneRowInsert | { reason: string }>>();

const isCollection = (prop: EntityProperty): boolean =>
  prop.kind === ReferenceKind.ONE_TO_MANY ||
  prop.kind === ReferenceKind.MANY_TO_MANY ||
  (prop.kind === ReferenceKind.ONE_TO_ONE && !prop.owner);

/** Whether a flush would have nothing to write but the new entity: nothing persisted or removed, nothing loaded that could have changed. */
function nothingElseToFlush(em: EntityManager): boolean {
  const uow = em.getUnitOfWork();
  if (uow.getPersistStack().size || uow.getRemoveStack().size) return false;
  for (const loaded of uow.getIdentityMap()) if (entityIsLoaded(loaded)) return false;
  return true;
}

/** Whether the entity goes to the schema the statement names (one chosen per EntityManager or entity goes through the flush). */
function inTablesSchema(em: EntityManager, meta: EntityMetadata, entity: object): boolean {
  return sameSchema(em, wrap(entity, true).getSchema() ?? em.schema ?? meta.schema, meta.schema);
}

function sameSchema(em: EntityManager, schema: string | undefined, tables: string | undefined): boolean {
  const resolve = (name: string | undefined) => name ?? em.config.get('schema') ?? em.getPlatform().getDefaultSchemaName();
  return resolve(schema) === resolve(tables);
}

/**
 * Why an instance made with `new Entity()` and hydrated is not what `em.create` makes: a
 * constructor with parameters, an `onInit` hook, or a constructor that sets values (found as
 * MikroORM's discovery finds property initialisers: by making one). Undefined when it is.
 */
function unmanagedReasonOf(meta: EntityMetadata): string | undefined {
  if (meta.constructorParams?.length) return `${meta.className}'s constructor takes parameters`;
  if (meta.hooks.onInit?.length) return `${meta.className} has an onInit hook`;
  const special = meta.hydrateProps.filter((prop) => isCollection(prop) || prop.ref).map((prop) => prop.name);
  if (special.length) return `${meta.className} has collections or references (${special.join(', ')})`;
  let probe: Record<string, unknown>;
  try {
    probe = new (meta.class as new () => Record<string, unknown>)();
  } catch {
    return `${meta.className}'s constructor throws without arguments`;
  }
  const set = Object.keys(probe).filter((name) => probe[name] !== undefined);
  if (set.length) return `${meta.className}'s constructor sets ${set.join(', ')}`;
  return undefined;
}

/**
 * Whether the row is all there is to write for the entity's relations: a related object that is
 * new (no key yet) would be inserted by cascade, and a collection with items means rows of its
 * own (pivot rows, or the items); a flush does both.
 */
function onlyTheRow(meta: EntityMetadata, entity: object): boolean {
  for (const prop of meta.relations) {
    const related = (entity as Record<string, unknown>)[prop.name];
    if (related == null) continue;
    if (Utils.isCollection(related)) {
      if (related.isInitialized() && related.count()) return false;
    } else if (Utils.isEntity(related, true) && !wrap(related, true).hasPrimaryKey()) {
      return false;
    }
  }
  return true;
}

/** `insert into <table> (<sent columns>) values (...) returning <generated columns>`, in MikroORM's and the driver's placeholder styles. */
function compileInsert(em: EntityManager, meta: EntityMetadata, sent: readonly string[], returning: readonly string[]): CompiledInsert {
  const platform = em.getPlatform();
  const column = (name: string) => platform.quoteIdentifier(meta.properties[name as keyof object].fieldNames[0]);
  const table = qualifiedTable(em, meta);
  const head = sent.length ? `insert into ${table} (${sent.map(column).join(', ')}) values ` : `insert into ${table} default values`;
  const tail = returning.length ? ` returning ${returning.map(column).join(', ')}` : '';
  const values = (placeholder: (index: number) => string) => (sent.length ? `(${sent.map((_, i) => placeholder(i)).join(', ')})` : '');
  return { sql: head + values(() => '?') + tail, nativeSql: head + values(nativePlaceholder(em)) + tail, properties: returning };
}
