import { BetterSqliteDriver } from '@mikro-orm/better-sqlite';
import type { Options } from '@mikro-orm/core';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';

/**
 * MikroORM options of the sample: PostgreSQL when `DATABASE_URL` is a postgresql:// URL
 * (the database is created if missing), else the SQLite file `sample.sqlite3`. Entities come
 * from each feature module (`MikroOrmModule.forFeature`).
 */
export function sampleDatabaseOptions(dbName = 'sample.sqlite3', url = process.env.DATABASE_URL): Options {
  if (url && /^postgres(ql)?:\/\//.test(url)) {
    return { driver: PostgreSqlDriver, clientUrl: url, autoLoadEntities: true } as Options;
  }
  return {
    driver: BetterSqliteDriver,
    dbName,
    autoLoadEntities: true,
    // Server defaults for a file: WAL lets readers run beside a writer, and a busy timeout makes
    // concurrent writers (e.g. `runserver --workers 2`) wait instead of failing "database is locked".
    pool: {
      afterCreate: (connection: { pragma(sql: string): unknown }, done: (error: Error | null, connection: unknown) => void) => {
        if (dbName !== ':memory:') connection.pragma('journal_mode = WAL');
        connection.pragma('busy_timeout = 5000');
        done(null, connection);
      },
    },
  } as Options;
}
