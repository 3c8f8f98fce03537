import { BetterSqliteDriver } from '@mikro-orm/better-sqlite';
import { Entity, MikroORM, PrimaryKey, Property, TableNotFoundException } from '@mikro-orm/core';
import { driverPoolOf } from '../../lib/orm/mikro-orm-internals';
import { MAX_PREPARED_STATEMENTS, runQuery } from '../../lib/orm/row-queries';

@Entity({ tableName: 'row_queries_item' })
class Item {
  @PrimaryKey() id!: number;
  @Property() name!: string;
}

/** Statements are prepared up to a bound (clients choose filter shapes), and answer the same past it. */
describe('runQuery', () => {
  let orm: MikroORM;

  beforeAll(async () => {
    orm = await MikroORM.init({ driver: BetterSqliteDriver, dbName: ':memory:', entities: [Item], allowGlobalContext: true });
    await orm.getSchemaGenerator().createSchema();
    await orm.em.fork().insertMany(Item, [{ name: 'a' }, { name: 'b' }]);
  });
  afterAll(() => orm.close());

  const byId = 'select name from row_queries_item where id = ?';

  // These two come first: the last test fills the allowance of prepared statements.
  it('answers at once on the idle SQLite connection, and later while the connection is taken', async () => {
    const em = orm.em.fork();
    // At once: no promise (each costs an async hook call once any AsyncLocalStorage has run).
    expect(runQuery(em, { sql: byId, nativeSql: byId }, [1])).toEqual([{ name: 'a' }]);
    const pool = driverPoolOf(em);
    const taken = await pool.acquire();
    const later = runQuery(em, { sql: byId, nativeSql: byId }, [2]);
    expect(later).toBeInstanceOf(Promise);
    await pool.release(taken);
    await expect(later).resolves.toEqual([{ name: 'b' }]);
  });

  it("throws MikroORM's exception at once when a statement fails on the idle connection", async () => {
    const missing = 'select name from row_queries_missing where id = ?';
    let outcome: unknown;
    try {
      outcome = runQuery(orm.em.fork(), { sql: missing, nativeSql: missing }, [1]);
    } catch (error) {
      outcome = error;
    }
    if (outcome instanceof Promise) await outcome.catch(() => undefined); // a failure of this test, not of the process
    expect(outcome).toBeInstanceOf(TableNotFoundException);
  });

  it(`answers every distinct statement, the ones past the first ${MAX_PREPARED_STATEMENTS} unprepared`, async () => {
    const em = orm.em.fork();
    for (let i = 0; i < MAX_PREPARED_STATEMENTS + 20; i++) {
      // Each text is new: `+ i` makes another statement.
      const sql = `select name, id + ${i} as shifted from row_queries_item where id > ? order by id`;
      const rows = await runQuery(em, { sql, nativeSql: sql }, [0]);
      expect(rows).toEqual([
        { name: 'a', shifted: 1 + i },
        { name: 'b', shifted: 2 + i },
      ]);
    }
  });
});
