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
  return { driver: BetterSqliteDriver, dbName, autoLoadEntities: true } as Options;
}
