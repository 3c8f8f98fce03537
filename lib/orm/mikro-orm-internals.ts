import { Configuration, EntityFactory, EntityManager, EntityMetadata, helper } from '@mikro-orm/core';

// The one place that relies on MikroORM 6 / knex internals (checked against @mikro-orm/* 6.6);
// test/unit/mikro-orm-internals.spec.ts fails, naming the internal, when an upgrade changes one.
// MikroORM 7 drops knex for its own query builder over Kysely; each function says what it becomes there.

/** A row as the driver returns it: column name -> raw value. */
export type Row = Record<string, unknown>;

/** The parts of a MikroORM SQL EntityManager (`@mikro-orm/knex`) the column reader uses (public API). */
export interface SqlEntityManagerLike {
  createQueryBuilder(entityName: string): QueryBuilderLike;
}

export interface QueryBuilderLike {
  alias: string;
  select(fields: string[]): QueryBuilderLike;
  where(where: object): QueryBuilderLike;
  orderBy(orderBy: object): QueryBuilderLike;
  limit(limit: number): QueryBuilderLike;
  offset(offset: number): QueryBuilderLike;
  execute(method: 'all', mapResults: false): Promise<unknown>;
}

/** A select with one more `column = value` condition, as SQL with `?` placeholders and in the driver's own placeholder style. */
export interface CompiledSelect {
  sql: string;
  nativeSql: string;
  bindings: readonly unknown[];
  nativeBindings: readonly unknown[];
}

/**
 * Internal: `QueryBuilder.getKnexQuery()` and knex's `toSQL().toNative()`. The condition is added
 * at the knex level so a placeholder value keeps a known binding position, and the select reads
 * at most one row with the limit written into the SQL (`limit 1`), not bound: with a bound LIMIT
 * a lookup cost four times as much on better-sqlite3 (measured; its SQLite is built with STAT4,
 * which prepares a statement again when a bound value may change its plan, the likely cause).
 * MikroORM 7: `qb.getNativeQuery()` compiles to `{ sql, params }` without knex; `raw('limit 1')`.
 */
export function compileLookupWithCondition(qb: QueryBuilderLike, column: string, value: unknown): CompiledSelect {
  return compiledSql(knexQueryOf(qb).andWhere(column, value).limit(1, { skipBinding: true }));
}

/** One key of a keyset page condition: its column (`alias.column`), its direction, and the placeholder value it is compiled with. */
export interface KeysetColumn {
  column: string;
  direction: 'asc' | 'desc';
  placeholder: unknown;
}

/**
 * Internal, as `compileLookupWithCondition`: the query builder's select of at most `limit` rows
 * (the limit written into the SQL, see `compileLookupWithCondition`), and with `keys`, of those
 * after a row: `(k1, k2, ...) > (v1, v2, ...)` in each key's direction, written as `k1 >= v1 and
 * (k1 > v1 or (k1 = v1 and k2 > v2) ...)` (the first term lets the database seek its index to
 * the page). The keys' placeholder values keep known binding positions. MikroORM 7: the same
 * condition through `qb.andWhere(raw(...))` before `getNativeQuery()`.
 */
export function compilePage(qb: QueryBuilderLike, keys: readonly KeysetColumn[], limit: number): CompiledSelect {
  const query = knexQueryOf(qb);
  const beyond = (key: KeysetColumn) => (key.direction === 'asc' ? '>' : '<');
  if (!keys.length) return compiledSql(query.limit(limit, { skipBinding: true }));
  if (keys.length === 1) query.andWhere(keys[0].column, beyond(keys[0]), keys[0].placeholder);
  else {
    const [first] = keys;
    query.andWhere(first.column, first.direction === 'asc' ? '>=' : '<=', first.placeholder);
    query.andWhere((or: KnexConditionLike) => {
      keys.forEach((key, i) =>
        or.orWhere((branch: KnexConditionLike) => {
          for (const prefix of keys.slice(0, i)) branch.andWhere(prefix.column, '=', prefix.placeholder);
          branch.andWhere(key.column, beyond(key), key.placeholder);
        }),
      );
    });
  }
  return compiledSql(query.limit(limit, { skipBinding: true }));
}

/** Internal, as `compileLookupWithCondition`: the query builder's select as it stands. */
export function compileSelect(qb: QueryBuilderLike): CompiledSelect {
  return compiledSql(knexQueryOf(qb));
}

function knexQueryOf(qb: QueryBuilderLike): KnexQueryLike {
  return (qb as unknown as { getKnexQuery(): KnexQueryLike }).getKnexQuery();
}

function compiledSql(query: KnexQueryLike): CompiledSelect {
  const compiled = query.toSQL();
  const native = compiled.toNative();
  return { sql: compiled.sql, bindings: compiled.bindings, nativeSql: native.sql, nativeBindings: native.bindings };
}

interface KnexConditionLike {
  andWhere(column: string, operator: string, value: unknown): KnexConditionLike;
  orWhere(nested: (builder: KnexConditionLike) => void): KnexConditionLike;
}

interface KnexQueryLike {
  andWhere(column: string, value: unknown): KnexQueryLike;
  andWhere(column: string, operator: string, value: unknown): KnexQueryLike;
  andWhere(nested: (builder: KnexConditionLike) => void): KnexQueryLike;
  limit(limit: number, options: { skipBinding: boolean }): KnexQueryLike;
  toSQL(): { sql: string; bindings: readonly unknown[]; toNative(): { sql: string; bindings: readonly unknown[] } };
}

/**
 * Internal: `em.getComparator().mapResult()`, MikroORM's own row-to-data mapping (column names to
 * property names, its hydration of raw values). MikroORM 7 keeps the EntityComparator.
 */
export function mapRow(em: EntityManager, className: string, row: Row): Record<string, unknown> {
  return em.getComparator().mapResult(className, row) as Record<string, unknown>;
}

interface KnexClientLike {
  driverName: string;
  acquireConnection(): Promise<unknown>;
  releaseConnection(connection: unknown): Promise<unknown>;
  pool?: TarnPoolLike;
}

/** tarn's Pool (knex's pool): the counters are public API, `free` is not. */
interface TarnPoolLike {
  numUsed(): number;
  numFree(): number;
  numPendingAcquires(): number;
  numPendingCreates(): number;
  numPendingValidations(): number;
  free?: { resource: unknown }[];
}

/** A pooled driver connection, and the driver's name ('pg', 'better-sqlite3', ...). */
export interface DriverPool {
  driverName: string;
  acquire(): Promise<unknown>;
  release(connection: unknown): Promise<unknown>;
  /**
   * The pool's free connection when nothing holds or awaits one, else undefined. Only for work
   * that finishes synchronously (better-sqlite3): no other call can take the connection before
   * it is done, so it needs no acquire (which costs two timers and a chain of promises).
   */
  idleConnection(): unknown;
  /** How many connections are in use, free and waited for (undefined without a knex pool). */
  connections(): PoolConnections | undefined;
}

export interface PoolConnections {
  used: number;
  free: number;
  pending: number;
}

/**
 * Internal: the knex client under MikroORM's connection (`getKnex().client`), to run prepared
 * statements on the raw driver connection. MikroORM 7: the Kysely dialect's driver pool.
 */
export function driverPoolOf(em: EntityManager, type: 'read' | 'write' = 'read'): DriverPool {
  const client = (em.getConnection(type) as unknown as { getKnex(): { client: KnexClientLike } }).getKnex().client;
  let pool = pools.get(client);
  if (!pool) {
    pool = {
      driverName: client.driverName,
      acquire: () => client.acquireConnection(),
      release: (connection) => client.releaseConnection(connection),
      idleConnection: () => idleConnectionOf(client.pool),
      connections: () => {
        const tarn = client.pool;
        return tarn && { used: tarn.numUsed(), free: tarn.numFree(), pending: tarn.numPendingAcquires() };
      },
    };
    pools.set(client, pool);
  }
  return pool;
}

/** Internal: tarn's `free` list of `{ resource }`. MikroORM 7: Kysely's SQLite dialect holds one connection, behind a mutex. */
function idleConnectionOf(pool: TarnPoolLike | undefined): unknown {
  if (!pool || pool.numUsed() || pool.numPendingAcquires() || pool.numPendingCreates() || pool.numPendingValidations()) return undefined;
  return pool.free?.[0]?.resource;
}

/** One per knex client: asked for on every lean read. */
const pools = new WeakMap<KnexClientLike, DriverPool>();

/**
 * Whether MikroORM must see each statement: it logs queries (`debug`) or rewrites them
 * (`onQuery`, compared with its internal default). MikroORM 7 keeps both options.
 */
export function queriesAreObserved(em: EntityManager): boolean {
  return em.config.getLogger().isEnabled('query') || em.config.get('onQuery') !== Configuration.DEFAULTS.onQuery;
}

const views = new WeakMap<Configuration, Configuration>();

/**
 * Internal: MikroORM 6's UnitOfWork reads `implicitTransactions` from `em.config` at each flush,
 * so `em` (a call's own fork) gets, while `work` runs, a view of its configuration with that
 * option off and every other option unchanged. MikroORM 7: the same flag, read the same way
 * (`em.config.get('implicitTransactions')` in `UnitOfWork.doCommit`); if it is cached instead,
 * flushes fall back to their transaction, which is correct, only slower.
 */
export async function withoutImplicitTransactions<R>(em: EntityManager, work: () => Promise<R>): Promise<R> {
  const config = em.config;
  const writable = em as { config: Configuration };
  writable.config = viewWithoutImplicitTransactions(config);
  try {
    return await work();
  } finally {
    writable.config = config;
  }
}

function viewWithoutImplicitTransactions(config: Configuration): Configuration {
  let view = views.get(config);
  if (!view) {
    view = Object.create(config) as Configuration;
    const get = config.get.bind(config) as (key: string, defaultValue?: unknown) => unknown;
    Object.defineProperty(view, 'get', {
      value: (key: string, defaultValue?: unknown) => (key === 'implicitTransactions' ? false : get(key, defaultValue)),
    });
    views.set(config, view);
  }
  return view;
}

/** Internal: `helper(entity).__meta`, an entity's metadata. MikroORM 7: the same helper and field. */
export function metadataOf(entity: object): EntityMetadata {
  return helper(entity).__meta;
}

/** Internal: `helper(entity).__initialized`: loaded, not a bare reference. MikroORM 7: the same field. */
export function entityIsLoaded(entity: object): boolean {
  return helper(entity).__initialized;
}

/**
 * Internal: what a flush does to an entity it inserted (`__initialized`, then
 * `UnitOfWork.register` with the inserted data, which marks it managed), so a later flush
 * writes only what changes after. MikroORM 7: the same steps in `ChangeSetPersister`.
 */
export function markInserted(em: EntityManager, entity: object, data: Record<string, unknown>): void {
  helper(entity).__initialized = true;
  em.getUnitOfWork().register(entity, data as never, { refresh: true });
}

/**
 * Internal: what `em.create` does with a new entity's data: MikroORM's hydrator
 * (`config.getHydrator(metadata).hydrate(..., 'full', newEntity)`), which converts values as
 * `em.create` does (booleans, dates given as text), here onto any object. Its entity factory is
 * used for relations only, which callers never pass. MikroORM 7: the same hydrator and arguments.
 */
export function hydrateNew(em: EntityManager, meta: EntityMetadata, target: object, data: Record<string, unknown>): void {
  em.config.getHydrator(em.getMetadata()).hydrate(target, meta, data, NO_FACTORY, 'full', true, false);
}

const NO_FACTORY = undefined as unknown as EntityFactory;

/**
 * Internal: an instance of the entity class holding `values` as plain own properties. MikroORM 6
 * puts accessors on an entity's prototype that, on the first write to an instance, define
 * change-tracking accessors on it (`EntityHelper.defineProperties`, `ensurePropagation`: about
 * 8 µs per instance); they serve the unit of work, which an unmanaged instance never joins, so
 * own properties shadow them. `helper(entity)` still works, made on first use. MikroORM 7: the
 * same accessors; were they dropped, the shadowing would only be unnecessary.
 */
export function unmanagedEntity(meta: EntityMetadata, values: Record<string, unknown>): object {
  const entity = new (meta.class as new () => object)();
  for (const prop of meta.hydrateProps) {
    Object.defineProperty(entity, prop.name, { value: values[prop.name], writable: true, enumerable: true, configurable: true });
  }
  return entity;
}
