import { BetterSqliteDriver } from '@mikro-orm/better-sqlite';
import { Entity, EntityManager, FilterQuery, Index, MikroORM, PrimaryKey, Property, QueryOrderMap } from '@mikro-orm/core';
import { ColumnReader, pageParams } from '../../lib/orm/column-reader';
import { compileSelect, driverPoolOf, SqlEntityManagerLike } from '../../lib/orm/mikro-orm-internals';
import { querysetBatches, RowSize } from '../../lib/services/queryset-batches';

@Entity({ tableName: 'keyset_row' })
class Row {
  @PrimaryKey() id!: number;
  @Index() @Property() at!: Date;
  @Property() label!: string;
}

/**
 * Deep pages cost what the first does only if the database seeks its index to the page: each
 * keyset query, compiled with its values as parameters (as the column reader runs it), must
 * search the order index, not scan it from the first row.
 */
describe('keyset pages', () => {
  let orm: MikroORM;
  type Database = { prepare(sql: string): { all(params: unknown[]): unknown[] } };

  beforeAll(async () => {
    orm = await MikroORM.init({ driver: BetterSqliteDriver, dbName: ':memory:', entities: [Row], allowGlobalContext: true });
    await orm.getSchemaGenerator().createSchema();
    await orm.em.fork().insertMany(
      Row,
      Array.from({ length: 2000 }, (_, i) => ({ at: new Date(Date.UTC(2024, 0, 1) + (i % 300) * 1000), label: `row ${i}` })),
    );
  });
  afterAll(() => orm.close());

  function rowReader(em: EntityManager): ColumnReader {
    const made = ColumnReader.create(em, em.getMetadata().get('Row'), ['id', 'at', 'label']);
    if (!('reader' in made)) throw new Error(made.reason);
    return made.reader;
  }

  /** Every row of the table in `orderBy`, read in batches of 150 by `reader` (compiled pages when `shape` is given). */
  async function readAll(em: EntityManager, reader: ColumnReader, orderBy: object, shape?: string): Promise<Row[]> {
    const read: Row[] = [];
    const batches = querysetBatches(
      em,
      { entity: Row, where: {}, orderBy: orderBy as QueryOrderMap<Row> },
      {
        maxRows: 150,
        rowSize: new RowSize(16),
        signal: new AbortController().signal,
        reader,
        shape,
      },
    );
    for await (const batch of batches) read.push(...(batch as Row[]));
    return read;
  }

  /** SQLite's plan of a statement with its values bound, as prepared statements run (MikroORM's own execute writes them into the SQL). */
  async function queryPlan(nativeSql: string, values: readonly unknown[]): Promise<string> {
    const params = values.map((value) => (value instanceof Date ? value.valueOf() : value));
    const connection = (await driverPoolOf(orm.em).acquire()) as Database;
    try {
      const rows = connection.prepare(`explain query plan ${nativeSql}`).all(params) as { detail: string }[];
      return rows.map((r) => r.detail).join('; ');
    } finally {
      await driverPoolOf(orm.em).release(connection);
    }
  }

  it.each([
    ['ascending', { at: 'asc' }],
    ['descending', { at: 'desc' }],
  ])('reads every row once in %s order, each page seeking the index', async (_name, orderBy) => {
    const em = orm.em.fork();
    const plans: Promise<string>[] = [];
    const reader = rowReader(em);
    const findPage = reader.findPage.bind(reader);
    reader.findPage = (pageEm, where, order, limit, offset) => {
      const qb = (pageEm as unknown as SqlEntityManagerLike).createQueryBuilder('Row');
      qb.select(['id', 'at', 'label'])
        .where(where as object)
        .orderBy(order as object)
        .limit(limit);
      const { nativeSql, bindings } = compileSelect(qb);
      plans.push(queryPlan(nativeSql, bindings));
      return findPage(pageEm, where as FilterQuery<object>, order as QueryOrderMap<object>, limit, offset);
    };
    const ids = (await readAll(em, reader, orderBy)).map((row) => row.id);
    expect(ids).toHaveLength(2000);
    expect(new Set(ids).size).toBe(2000);
    const details = await Promise.all(plans);
    expect(details.length).toBeGreaterThan(10);
    // The first page starts at the beginning; every later one searches the index from its start.
    for (const detail of details.slice(1)) expect(detail).toMatch(/SEARCH .*INDEX .*\(at[<>]\?\)/);
  });

  it.each([
    ['ascending', { at: 'asc' }],
    ['descending', { at: 'desc' }],
  ])('compiled once (a shape given), reads every row once in %s order, each page seeking the index', async (_name, orderBy) => {
    const em = orm.em.fork();
    const reader = rowReader(em);
    const statements = new Set<string>();
    const plans: Promise<string>[] = [];
    const readPage = reader.readPage.bind(reader);
    reader.readPage = (pageEm, page, last) => {
      statements.add(page.nativeSql);
      plans.push(queryPlan(page.nativeSql, pageParams(page, last)));
      return readPage(pageEm, page, last);
    };
    const read = await readAll(em, reader, orderBy, '');
    const direction = (orderBy as { at: string }).at;
    const expected = await orm.em.fork().find(Row, {}, { orderBy: { at: direction, id: 'asc' } as QueryOrderMap<Row> });
    expect(read.map((row) => row.id)).toEqual(expected.map((row) => row.id));
    // One statement for the first page, one for the pages after a row: compiled once each.
    expect(statements.size).toBe(2);
    const details = await Promise.all(plans);
    expect(details.length).toBeGreaterThan(10);
    for (const detail of details.slice(1)) expect(detail).toMatch(/SEARCH .*INDEX .*\(at[<>]\?\)/);
  });
});
