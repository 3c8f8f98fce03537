import { BetterSqliteDriver } from '@mikro-orm/better-sqlite';
import { Entity, MikroORM, PrimaryKey, Property } from '@mikro-orm/core';
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
