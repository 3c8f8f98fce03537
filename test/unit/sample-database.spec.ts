import { BetterSqliteDriver } from '@mikro-orm/better-sqlite';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { sampleDatabaseOptions } from '../../sample/database';

describe('the sample database choice', () => {
  it('uses PostgreSQL for a postgresql:// DATABASE_URL', () => {
    const url = 'postgresql://postgres@127.0.0.1:5432/test';
    expect(sampleDatabaseOptions(undefined, url)).toMatchObject({ driver: PostgreSqlDriver, clientUrl: url });
    expect(sampleDatabaseOptions(undefined, 'postgres://h/db')).toMatchObject({ driver: PostgreSqlDriver });
  });

  it('uses an SQLite file otherwise', () => {
    expect(sampleDatabaseOptions(undefined, '')).toMatchObject({ driver: BetterSqliteDriver, dbName: 'sample.sqlite3' });
    expect(sampleDatabaseOptions(':memory:', undefined)).toMatchObject({ dbName: ':memory:' });
  });
});
