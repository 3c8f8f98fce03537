import { Entity, MikroORM, PrimaryKey, Property } from '@mikro-orm/core';
import { containsCondition } from '../../lib/querying/contains-condition';
import { filterCondition, FilterableField } from '../../lib/querying/filter-query';
import { parseFilter } from '../../lib/querying/filter-syntax';
import { testDatabase, TestDatabase } from '../utils/test-database';

@Entity({ tableName: 'filter_row' })
class Row {
  @PrimaryKey() id!: number;
  @Property({ fieldName: 'row_title' }) title!: string;
  @Property() created!: Date;
}

/** Filters become conditions the database runs with parameters, with the same answers on SQLite and PostgreSQL. */
describe('filters on a real database', () => {
  let database: TestDatabase;
  let orm: MikroORM;
  const titles = ['Hello world', 'HELLO again', '50% off', '50 percent', 'snake_case', 'snakeXcase', 'it\'s "quoted"'];

  beforeAll(async () => {
    database = testDatabase();
    orm = await MikroORM.init({ ...database.options, entities: [Row] });
    await orm.getSchemaGenerator().refreshDatabase();
    await orm.em.fork().insertMany(
      Row,
      titles.map((title, i) => ({ title, created: new Date(Date.UTC(2024, 0, i + 1)) })),
    );
  });
  afterAll(async () => {
    await orm.close();
    await database.dispose();
  });

  const fields = new Map<string, FilterableField>([
    ['title', { name: 'title', property: 'title', kind: 'string', comparators: new Set(['=', '!=', ':'] as const) }],
    ['created', { name: 'created', property: 'created', kind: 'date', comparators: new Set(['<', '>=', '='] as const) }],
    ['id', { name: 'id', property: 'id', kind: 'integer', comparators: new Set(['=', '>'] as const) }],
  ]);
  const titlesFor = async (filter: string) => {
    const em = orm.em.fork();
    const where = filterCondition(parseFilter(filter)!, fields, containsCondition(em, em.getMetadata().get('Row')));
    return (await em.find(Row, where, { orderBy: { id: 'asc' } })).map((row) => row.title);
  };

  it('finds text containing a value, ignoring case, with % and _ as plain characters', async () => {
    expect(await titlesFor('title:"hello"')).toEqual(['Hello world', 'HELLO again']);
    expect(await titlesFor('title:"50%"')).toEqual(['50% off']);
    expect(await titlesFor('title:"e_c"')).toEqual(['snake_case']);
    expect(await titlesFor(`title:"'s \\"quoted"`)).toEqual(['it\'s "quoted"']);
  });

  it('combines comparisons on dates and numbers with AND, OR and NOT', async () => {
    expect(await titlesFor('created >= "2024-01-03T00:00:00Z" AND created < "2024-01-05T00:00:00Z"')).toEqual(['50% off', '50 percent']);
    expect(await titlesFor('id = 1 OR title = "snakeXcase"')).toEqual(['Hello world', 'snakeXcase']);
    expect(await titlesFor('NOT title:"snake" AND -title:"50" AND id > 1')).toEqual(['HELLO again', 'it\'s "quoted"']);
  });
});
