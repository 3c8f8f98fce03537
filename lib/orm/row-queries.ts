import type { EntityManager } from '@mikro-orm/core';
import type { Span } from '@opentelemetry/api';
import { DriverPool, driverPoolOf, queriesAreObserved, Row } from './mikro-orm-internals';
import { endQuerySpan, startQuerySpan } from './query-spans';

export type { Row };

/** A value now, or a promise of it: what a read answered at once (SQLite's idle connection) gives without a promise. */
export type Awaitable<T> = T | Promise<T>;

interface SqlConnectionLike {
  execute(sql: string, params: unknown[], method: 'all', ctx?: unknown): Promise<Row[]>;
}

interface BetterSqliteDatabase {
  prepare(sql: string): { all(params: unknown[]): Row[] };
}

interface PgClient {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: Row[] }>;
}

export interface PreparableQuery {
  /** SQL with knex `?` placeholders, as MikroORM's `execute` takes it. */
  readonly sql: string;
  /** The same SQL in the driver's own placeholder style (`$1` for PostgreSQL). */
  readonly nativeSql: string;
}

const sqliteStatements = new WeakMap<object, Map<string, { all(params: unknown[]): Row[] }>>();
const pgStatementNames = new Map<string, string>();

/**
 * The most distinct statements prepared per process (each is kept on every connection that ran
 * it). List filters make statements whose shape clients choose, so past this they run unprepared.
 */
export const MAX_PREPARED_STATEMENTS = 500;
const preparedTexts = new Set<string>();

/** Whether `sql` is (or may become) one of the prepared statements. */
function mayPrepare(sql: string): boolean {
  if (preparedTexts.has(sql)) return true;
  if (preparedTexts.size >= MAX_PREPARED_STATEMENTS) return false;
  preparedTexts.add(sql);
  return true;
}

/**
 * Runs a statement compiled once and called often (or a List page, whose statement differs from the last page's only in values): a select on the read connection (a
 * replica's when MikroORM has `replicas`), an insert on the write one. On better-sqlite3 and
 * pg it uses a prepared statement per connection (parsed and planned once, values bound by the
 * driver); elsewhere, inside a transaction, or when MikroORM logs queries or rewrites them
 * (`onQuery`), it goes through MikroORM's `execute`, which does all of that on every call.
 *
 * On better-sqlite3's idle connection the rows come back at once, not in a promise (and a
 * failure is thrown): with async hooks on (any AsyncLocalStorage that has run, MikroORM's
 * flush among them) every promise costs a hook call.
 */
export function runQuery(em: EntityManager, query: PreparableQuery, params: unknown[], type: 'read' | 'write' = 'read'): Awaitable<Row[]> {
  const ctx = em.getTransactionContext();
  const pool = driverPoolOf(em, type);
  const prepares = pool.driverName === 'better-sqlite3' || pool.driverName === 'pg';
  if (ctx || !prepares || queriesAreObserved(em) || !mayPrepare(query.nativeSql)) {
    const connection = em.getConnection(type) as unknown as SqlConnectionLike;
    return connection.execute(query.sql, params, 'all', ctx).catch((error: Error) => {
      throw em.getDriver().convertException(error);
    });
  }
  // better-sqlite3 runs a statement synchronously, so an idle connection can be used in place
  // (no acquire, and no async step: a lean Retrieve's only query is answered at once).
  const idle = pool.driverName === 'better-sqlite3' ? pool.idleConnection() : undefined;
  const span = startQuerySpan(pool.driverName, query.nativeSql);
  if (idle) {
    try {
      const rows = sqliteRows(idle as BetterSqliteDatabase, query, params);
      if (span) endQuerySpan(span);
      return rows;
    } catch (error) {
      if (span) endQuerySpan(span, error);
      throw em.getDriver().convertException(error as Error);
    }
  }
  const rows = runOnAcquired(em, pool, query, params);
  return span ? endedWith(rows, span) : rows;
}

/** The rows of a statement, its span ended when they come (or the statement fails). */
function endedWith(rows: Promise<Row[]>, span: Span): Promise<Row[]> {
  return rows.then(
    (found) => {
      endQuerySpan(span);
      return found;
    },
    (error: unknown) => {
      endQuerySpan(span, error);
      throw error;
    },
  );
}

/** The statement on a connection taken from the pool for it, then given back. */
async function runOnAcquired(em: EntityManager, pool: DriverPool, query: PreparableQuery, params: unknown[]): Promise<Row[]> {
  const raw = await pool.acquire();
  try {
    if (pool.driverName === 'pg') {
      const result = await (raw as PgClient).query({ name: pgStatementName(query.nativeSql), text: query.nativeSql, values: params });
      return result.rows;
    }
    return sqliteRows(raw as BetterSqliteDatabase, query, params);
  } catch (error) {
    throw em.getDriver().convertException(error as Error);
  } finally {
    await pool.release(raw);
  }
}

function sqliteRows(database: BetterSqliteDatabase, query: PreparableQuery, params: unknown[]): Row[] {
  return sqliteStatement(database, query.nativeSql).all(params.map(sqliteValue));
}

function sqliteStatement(database: BetterSqliteDatabase, sql: string): { all(params: unknown[]): Row[] } {
  let statements = sqliteStatements.get(database);
  if (!statements) sqliteStatements.set(database, (statements = new Map()));
  let statement = statements.get(sql);
  if (!statement) statements.set(sql, (statement = database.prepare(sql)));
  return statement;
}

/** better-sqlite3 binds numbers, strings, bigints and buffers; knex sends dates and booleans as numbers too. */
function sqliteValue(value: unknown): unknown {
  if (value instanceof Date) return value.valueOf();
  if (typeof value === 'boolean') return Number(value);
  return value;
}

/** pg keeps a named statement per connection once parsed; one name per SQL text. */
function pgStatementName(sql: string): string {
  let name = pgStatementNames.get(sql);
  if (!name) pgStatementNames.set(sql, (name = `grpc_framework_${pgStatementNames.size + 1}`));
  return name;
}
