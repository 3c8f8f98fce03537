import { BetterSqliteDriver } from '@mikro-orm/better-sqlite';
import type { Options } from '@mikro-orm/core';

/** MikroORM options of the sample: an SQLite file by default; entities come from each feature module. */
export function sampleDatabaseOptions(dbName = 'sample.sqlite3'): Options {
  return {
    driver: BetterSqliteDriver,
    dbName,
    autoLoadEntities: true,
  } as Options;
}
