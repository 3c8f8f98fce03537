import { BetterSqliteDriver } from '@mikro-orm/better-sqlite';
import { Entity, MikroORM, PrimaryKey, Property } from '@mikro-orm/core';
import {
  compileSelect,
  compileLookupWithCondition,
  compilePage,
  driverPoolOf,
  entityIsLoaded,
  hydrateNew,
  mapRow,
  markInserted,
  metadataOf,
  queriesAreObserved,
  SqlEntityManagerLike,
  unmanagedEntity,
  withoutImplicitTransactions,
} from '../../lib/orm/mikro-orm-internals';

@Entity({ tableName: 'internals_item' })
class Item {
  @PrimaryKey() id!: number;
  @Property({ fieldName: 'item_name' }) name!: string;
}

@Entity({ tableName: 'internals_stamp' })
class Stamp {
  @PrimaryKey() id!: number;
  @Property() on!: boolean;
  @Property() at!: Date;
  @Property({ nullable: true }) label?: string;
}

// lib/orm/mikro-orm-internals.ts relies on MikroORM 6 / knex internals; each case fails, naming
// the internal, when an upgrade changes it.
describe('MikroORM internals the framework relies on', () => {
  let orm: MikroORM;
  beforeAll(async () => {
    orm = await MikroORM.init({ driver: BetterSqliteDriver, dbName: ':memory:', entities: [Item, Stamp], allowGlobalContext: true });
    await orm.getSchemaGenerator().createSchema();
    await orm.em.fork().persistAndFlush(Object.assign(new Item(), { name: 'first' }));
  });
  afterAll(() => orm.close());

  it('QueryBuilder.getKnexQuery() with knex toSQL().toNative() compiles a select of one row with one more condition, its limit written in the SQL', () => {
    const qb = (orm.em.fork() as unknown as SqlEntityManagerLike).createQueryBuilder('Item');
    qb.select(['id', 'name']).where({});
    const compiled = compileLookupWithCondition(qb, `${qb.alias}.id`, 'MARK');
    expect(compiled.sql).toMatch(/select .*item_name.* from `internals_item` .*where .*id.* = \? limit 1$/);
    expect(compiled.bindings).toEqual(['MARK']);
    expect(compiled.nativeBindings).toEqual(['MARK']);
  });

  it('the same compiles a page after a row: the keyset condition with placeholder bindings in place, the limit written in the SQL', () => {
    const qb = (orm.em.fork() as unknown as SqlEntityManagerLike).createQueryBuilder('Item');
    qb.select(['id', 'name'])
      .where({ name: { $ne: 'x' } })
      .orderBy({ name: 'desc', id: 'asc' });
    const keys = [
      { column: `${qb.alias}.item_name`, direction: 'desc' as const, placeholder: 'NAME' },
      { column: `${qb.alias}.id`, direction: 'asc' as const, placeholder: 'ID' },
    ];
    const compiled = compilePage(qb, keys, 51);
    expect(compiled.sql).toMatch(
      /where .*item_name.* != \? and .*item_name.* <= \? and \(\(.*item_name.* < \?\) or \(.*item_name.* = \? and .*id.* > \?\)\) order by .* limit 51$/,
    );
    expect(compiled.bindings).toEqual(['x', 'NAME', 'NAME', 'NAME', 'ID']);
    expect(compiled.nativeBindings).toEqual(['x', 'NAME', 'NAME', 'NAME', 'ID']);
    expect(compilePage(qb, [], 10).sql).toMatch(/limit 10$/);
  });

  it('the same compiles a select as it stands, its values as bindings in order', () => {
    const qb = (orm.em.fork() as unknown as SqlEntityManagerLike).createQueryBuilder('Item');
    qb.select(['id', 'name'])
      .where({ name: 'first', id: { $gt: 0 } })
      .orderBy({ id: 'asc' })
      .limit(51);
    const compiled = compileSelect(qb);
    expect(compiled.sql).toMatch(/select .*item_name.* from `internals_item` .*where .*item_name.* = \? .*order by .* limit \?/);
    expect(compiled.bindings).toEqual(['first', 0, 51]);
    expect(compiled.nativeBindings).toEqual(['first', 0, 51]);
  });

  it('em.getComparator().mapResult maps column names to properties', () => {
    expect(mapRow(orm.em, 'Item', { id: 1, item_name: 'first' })).toMatchObject({ id: 1, name: 'first' });
  });

  it("the knex client under the connection lends the driver's connections", async () => {
    const pool = driverPoolOf(orm.em);
    expect(pool.driverName).toBe('better-sqlite3');
    const connection = (await pool.acquire()) as { prepare(sql: string): { all(): unknown[] } };
    try {
      expect(connection.prepare('select item_name from internals_item').all()).toEqual([{ item_name: 'first' }]);
    } finally {
      await pool.release(connection);
    }
    expect(queriesAreObserved(orm.em)).toBe(false);
  });

  it("config.getHydrator(metadata).hydrate(..., 'full', newEntity) converts a new entity's data as em.create does, onto any object", () => {
    const data = { on: 1, at: '2025-01-02T03:04:05.000Z', label: undefined };
    const values: Record<string, unknown> = {};
    hydrateNew(orm.em, orm.getMetadata().get('Stamp'), values, data);
    expect(values).toEqual({ on: true, at: new Date('2025-01-02T03:04:05.000Z') });
    const created = orm.em.create(Stamp, data as never, { persist: false });
    expect({ on: created.on, at: created.at }).toEqual(values);
  });

  it("an entity's first write defines tracking accessors on it, which own properties shadow; helper(entity) still serves such an instance", () => {
    const created = orm.em.fork().create(Stamp, { on: true, at: new Date(0) }, { persist: false });
    expect(Object.getOwnPropertyDescriptor(created, 'on')?.get).toEqual(expect.any(Function)); // EntityHelper.ensurePropagation
    const plain = unmanagedEntity(orm.getMetadata().get('Stamp'), { on: false, at: new Date(0) }) as Stamp;
    expect(plain).toBeInstanceOf(Stamp);
    expect(Object.getOwnPropertyDescriptor(plain, 'on')).toMatchObject({ value: false, writable: true });
    plain.label = 'set';
    expect(Object.getOwnPropertyDescriptor(plain, 'label')).toMatchObject({ value: 'set' });
    expect(metadataOf(plain).className).toBe('Stamp');
    expect(orm.em.getComparator().prepareEntity(plain)).toMatchObject({ on: false, label: 'set' });
  });

  it('helper(entity).__meta and __initialized, and UnitOfWork.register, as a flush leaves an inserted entity', async () => {
    const em = orm.em.fork();
    const reference = em.getReference(Item, 1);
    expect(metadataOf(reference).className).toBe('Item'); // helper(entity).__meta
    expect(entityIsLoaded(reference)).toBe(false); // helper(entity).__initialized
    const item = em.create(Item, { name: 'second' }, { persist: false });
    const inserted = await em.insert(Item, { name: 'second' });
    item.id = inserted as number;
    markInserted(em, item, { id: item.id, name: 'second' });
    expect(entityIsLoaded(item)).toBe(true);
    expect(em.getUnitOfWork().getById('Item', item.id)).toBe(item);
    em.getUnitOfWork().computeChangeSets();
    expect(em.getUnitOfWork().getChangeSets()).toEqual([]); // registered with its data: nothing changed
    item.name = 'changed';
    em.getUnitOfWork().computeChangeSets();
    expect(
      em
        .getUnitOfWork()
        .getChangeSets()
        .map((set) => [set.type, set.payload]),
    ).toEqual([['update', { name: 'changed' }]]);
    await em.nativeDelete(Item, { id: item.id });
  });

  it("tarn's pool under knex shows its free connection only while nothing holds or awaits it", async () => {
    const pool = driverPoolOf(orm.em);
    const idle = pool.idleConnection() as { prepare(sql: string): { all(): unknown[] } } | undefined;
    expect(idle).toBeDefined(); // tarn's Pool.free[0].resource
    expect(idle!.prepare('select item_name from internals_item').all()).toEqual([{ item_name: 'first' }]);
    expect(pool.connections()).toEqual({ used: 0, free: 1, pending: 0 }); // tarn's numUsed(), numFree(), numPendingAcquires()
    const held = await pool.acquire();
    try {
      expect(held).toBe(idle);
      expect(pool.idleConnection()).toBeUndefined(); // tarn's numUsed()
      const waiting = pool.acquire();
      expect(pool.connections()).toEqual({ used: 1, free: 0, pending: 1 });
      await pool.release(held);
      await pool.release(await waiting);
    } finally {
      expect(pool.idleConnection()).toBe(idle);
    }
  });

  it("a flush reads implicitTransactions from em.config each time, so a call's fork can turn it off", async () => {
    const statements: string[] = [];
    const logged = await MikroORM.init({
      driver: BetterSqliteDriver,
      dbName: ':memory:',
      entities: [Item],
      allowGlobalContext: true,
      debug: ['query'],
      logger: (line: string) => statements.push(line.replace(/\x1b\[[\d;]*m/g, '').toLowerCase()),
    });
    try {
      await logged.getSchemaGenerator().createSchema();
      expect(queriesAreObserved(logged.em)).toBe(true);
      const written = () => statements.flatMap((s) => s.match(/\b(begin|commit|insert)\b/)?.[1] ?? []);
      const em = logged.em.fork();
      statements.length = 0;
      await em.persistAndFlush(Object.assign(new Item(), { name: 'in a transaction' }));
      expect(written()).toEqual(['begin', 'insert', 'commit']);
      statements.length = 0;
      await withoutImplicitTransactions(em, () => em.persistAndFlush(Object.assign(new Item(), { name: 'alone' })));
      expect(written()).toEqual(['insert']);
    } finally {
      await logged.close();
    }
  });

  // lib/orm/equal-to.ts writes string conditions as { $eq: value } because of this: when MikroORM
  // stops listing a shorthand string's keys, equalTo can go.
  it('lists the keys of a string compared as { property: value }, and not of { $eq: value }', async () => {
    const name = 'x'.repeat(1000);
    const keys = jest.spyOn(Object, 'keys');
    try {
      await orm.em.fork().find(Item, { name });
      const ofTheString = () => keys.mock.calls.filter(([argument]) => argument === name).length;
      expect(ofTheString()).toBeGreaterThan(0);
      keys.mockClear();
      await orm.em.fork().find(Item, { name: { $eq: name } });
      expect(ofTheString()).toBe(0);
    } finally {
      keys.mockRestore();
    }
  });
});
