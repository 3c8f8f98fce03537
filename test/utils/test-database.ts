import type { Options } from '@mikro-orm/core';
import { BetterSqliteDriver } from '@mikro-orm/better-sqlite';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { Client } from 'pg';

/** The database the e2e suite runs on: `TEST_DB=postgres` (set by the jest project) or SQLite. */
export const TEST_DB = process.env.TEST_DB === 'postgres' ? 'postgres' : 'sqlite';
export const POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432';

let counter = 0;

export interface TestDatabase {
  options: Options;
  /** Drops the database (PostgreSQL); call after the app has closed. */
  dispose(): Promise<void>;
}

/**
 * A database of its own for one app: in-memory SQLite, or a new PostgreSQL database named
 * after the jest worker, so parallel workers never share tables. MikroORM creates it on
 * connect (`ensureDatabase`).
 */
export function testDatabase(extra: Partial<Options> = {}): TestDatabase {
  if (TEST_DB === 'sqlite') {
    return { options: { driver: BetterSqliteDriver, dbName: ':memory:', ...extra } as Options, dispose: async () => undefined };
  }
  const dbName = `grpc_fw_${process.pid}_${process.env.JEST_WORKER_ID ?? 0}_${++counter}`;
  return {
    options: { driver: PostgreSqlDriver, clientUrl: `${POSTGRES_URL}/${dbName}`, ...extra } as Options,
    dispose: () => dropPostgresDatabase(dbName),
  };
}

export async function dropPostgresDatabase(dbName: string): Promise<void> {
  const client = new Client({ connectionString: `${POSTGRES_URL}/postgres` });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
