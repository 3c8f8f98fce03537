import {
  Collection,
  Entity,
  EventSubscriber,
  ManyToMany,
  ManyToOne,
  MikroORM,
  PrimaryKey,
  Property,
  UniqueConstraintViolationException,
  ValidationError,
  wrap,
} from '@mikro-orm/core';
import { OneRowInsert } from '../../lib/orm/one-row-insert';
import { Client } from 'pg';
import { POSTGRES_URL, TEST_DB, testDatabase, TestDatabase } from '../utils/test-database';

@Entity({ tableName: 'insert_tag' })
class Tag {
  @PrimaryKey() id!: number;
  @Property({ unique: true }) name!: string;
}

@Entity({ tableName: 'insert_note' })
class Note {
  @PrimaryKey() id!: number;
  @Property({ unique: true }) title!: string;
  @Property({ type: 'json', nullable: true }) extra?: Record<string, unknown>;
  @Property() pinned: boolean = false;
  @Property({ defaultRaw: '42' }) score?: number;
  @Property({ onCreate: () => new Date('2024-05-06T07:08:09.000Z') }) created?: Date;
  @Property({ nullable: true }) body?: string;
  @ManyToOne(() => Tag, { nullable: true }) tag?: Tag;
  @ManyToMany(() => Tag) tags = new Collection<Tag>(this);
}

@Entity({ tableName: 'insert_memo' })
class Memo {
  @PrimaryKey() id!: number;
  @Property({ unique: true }) title!: string;
  @Property() pinned!: boolean;
  @Property({ defaultRaw: '42' }) score?: number;
  @Property({ onCreate: (memo: Memo) => memo.title.toUpperCase() }) shout?: string;
  @Property({ nullable: true }) due?: Date;
  @Property({ nullable: true }) body?: string;
  @ManyToOne(() => Tag, { nullable: true }) tag?: Tag;

  describe(): string {
    return `${this.title} (${this.score})`;
  }
}

/** A constructor that sets a value: `new Draft()` is not what `em.create` makes of the same data. */
@Entity({ tableName: 'insert_draft' })
class Draft {
  @PrimaryKey() id!: number;
  @Property() pinned: boolean = false;
}

/** A constructor with parameters, which `em.create` fills from the data. */
@Entity({ tableName: 'insert_letter' })
class Letter {
  @PrimaryKey() id!: number;
  @Property() title: string;
  constructor(title: string) {
    this.title = title;
  }
}

/** What a flush writes and what the compiled insert writes must be the same rows and the same entities. */
describe('one new entity inserted by one compiled statement', () => {
  let database: TestDatabase;
  let orm: MikroORM;
  const statements: string[] = [];

  beforeAll(async () => {
    database = testDatabase();
    orm = await MikroORM.init({
      ...database.options,
      entities: [Note, Tag, Memo, Draft, Letter],
      debug: ['query'],
      logger: (line: string) => statements.push(line.replace(/\x1b\[[\d;]*m/g, '').replace(/^\[query\] /, '')),
    });
    await orm.getSchemaGenerator().refreshDatabase();
    await orm.em.fork().insert(Tag, { name: 'kept' });
  });
  afterAll(async () => {
    await orm.close();
    await database.dispose();
  });
  beforeEach(() => (statements.length = 0));

  const create = (em = orm.em.fork(), data: Partial<Note> = {}) => ({
    em,
    note: em.create(
      Note,
      { title: `note ${Math.random()}`, extra: { a: [1, 'two'] }, pinned: true, tag: em.getReference(Tag, 1), ...data },
      { persist: false },
    ),
  });
  const stored = async (id: number) => {
    const note = await orm.em.fork().findOneOrFail(Note, id, { populate: ['tags'] });
    return { ...note, tag: note.tag?.id, tags: note.tags.getItems().map((t) => t.id) };
  };

  it('writes what a flush writes, with one statement, and reads back the key and database defaults', async () => {
    const { em, note } = create();
    await OneRowInsert.save(em, note);
    expect(statements.filter((s) => !/^(begin|commit)/.test(s))).toHaveLength(1);
    expect(statements[0]).toMatch(/^insert into .*returning/);
    expect(statements.some((s) => /^begin/.test(s))).toBe(false);
    expect(note).toMatchObject({ id: expect.any(Number), score: 42, created: new Date('2024-05-06T07:08:09.000Z') });

    const flushed = create(orm.em.fork(), { title: `${note.title} (flushed)` });
    flushed.em.persist(flushed.note);
    await flushed.em.flush();
    const [mine, theirs] = [await stored(note.id), await stored(flushed.note.id)];
    expect({ ...mine, id: 0, title: '' }).toEqual({ ...theirs, id: 0, title: '' });
    expect(mine).toMatchObject({ extra: { a: [1, 'two'] }, pinned: true, score: 42, tag: 1, body: null });
  });

  it('leaves the entity managed: a later flush writes only what changes after', async () => {
    const { em, note } = create();
    await OneRowInsert.save(em, note);
    statements.length = 0;
    await em.flush();
    expect(statements).toEqual([]);
    note.body = 'edited';
    await em.flush();
    expect(statements.join('\n')).toMatch(/update .*insert_note/);
    expect((await stored(note.id)).body).toBe('edited');
  });

  it('flushes instead when the flush would write more than the row', async () => {
    // Items in a collection are pivot rows of their own.
    const withTags = create();
    withTags.note.tags.add(withTags.em.getReference(Tag, 1));
    await OneRowInsert.save(withTags.em, withTags.note);
    expect((await stored(withTags.note.id)).tags).toEqual([1]);

    // A loaded entity may have changed: the flush writes it too.
    const em = orm.em.fork();
    const tag = await em.findOneOrFail(Tag, 1);
    tag.name = 'renamed';
    const withChange = create(em);
    await OneRowInsert.save(em, withChange.note);
    expect((await orm.em.fork().findOneOrFail(Tag, 1)).name).toBe('renamed');

    // A related object without a key yet is inserted by cascade.
    const withNewTag = create();
    withNewTag.note.tag = withNewTag.em.create(Tag, { name: `new ${Math.random()}` }, { persist: false });
    await OneRowInsert.save(withNewTag.em, withNewTag.note);
    expect((await stored(withNewTag.note.id)).tag).toEqual(expect.any(Number));
  });

  it('flushes instead while a subscriber listens to flushes', async () => {
    const flushes: string[] = [];
    const subscriber: EventSubscriber = { onFlush: () => void flushes.push('flush') };
    orm.em.getEventManager().registerSubscriber(subscriber);
    try {
      const { em, note } = create();
      await OneRowInsert.save(em, note);
      expect(flushes).toEqual(['flush']);
    } finally {
      orm.em.getEventManager().getSubscribers().delete(subscriber);
    }
  });

  it("raises MikroORM's exception for a unique value taken, and stores nothing", async () => {
    const first = create();
    await OneRowInsert.save(first.em, first.note);
    const twin = create(orm.em.fork(), { title: first.note.title });
    await expect(OneRowInsert.save(twin.em, twin.note)).rejects.toBeInstanceOf(UniqueConstraintViolationException);
    expect(await orm.em.fork().count(Note, { title: first.note.title })).toBe(1);
  });

  it('runs inside the transaction of its EntityManager, which can undo it', async () => {
    let id = 0;
    await expect(
      orm.em.fork().transactional(async (em) => {
        const { note } = create(em);
        await OneRowInsert.save(em, note);
        id = note.id;
        throw new Error('undo');
      }),
    ).rejects.toThrow('undo');
    expect(id).toBeGreaterThan(0);
    expect(await orm.em.fork().count(Note, { id })).toBe(0);
  });

  // A replica that refuses writes: the insert must go to the primary, as a flush's does.
  (TEST_DB === 'postgres' ? it : it.skip)('writes on the primary when MikroORM has read replicas', async () => {
    const dbName = (database.options as { clientUrl: string }).clientUrl.split('/').pop()!;
    const admin = new Client({ connectionString: `${POSTGRES_URL}/${dbName}` });
    await admin.connect();
    const role = `grpc_fw_reader_${process.pid}`;
    await admin.query(`DROP ROLE IF EXISTS ${role}; CREATE ROLE ${role} LOGIN; GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${role}`);
    const replicated = await MikroORM.init({
      ...database.options,
      entities: [Note, Tag],
      replicas: [{ name: 'reader', clientUrl: `${POSTGRES_URL.replace('postgres@', `${role}@`)}/${dbName}` }],
    });
    try {
      const em = replicated.em.fork();
      const note = em.create(Note, { title: `replicated ${Math.random()}`, pinned: false }, { persist: false });
      await OneRowInsert.save(em, note);
      expect(await replicated.em.fork().count(Note, { id: note.id })).toBe(1);
    } finally {
      await replicated.close();
      await admin.query(`REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ${role}; DROP ROLE ${role}`);
      await admin.end();
    }
  });

  describe('from data, through an instance no EntityManager manages', () => {
    const memo = (data: Record<string, unknown> = {}) => ({
      title: `memo ${Math.random()}`,
      pinned: true,
      due: new Date('2025-01-02T03:04:05.000Z'),
      ...data,
    });
    const insertOf = (entity: Function) => {
      const insert = OneRowInsert.for(orm.em, orm.getMetadata().get(entity.name));
      if (!(insert instanceof OneRowInsert)) throw new Error(insert.reason);
      return insert;
    };
    const row = async (id: number) => ({ ...(await orm.em.fork().findOneOrFail(Memo, id)), id: 0, title: '' });

    it("writes the row a flush of em.create's entity writes, with one statement, on the application's EntityManager", async () => {
      const data = memo();
      const made = (await insertOf(Memo).insertUnmanaged(orm.em, data)) as Memo;
      expect(statements).toHaveLength(1);
      expect(statements[0]).toMatch(/^insert into .*returning/);
      expect(made).toBeInstanceOf(Memo);
      expect(made.describe()).toBe(`${data.title} (42)`);
      expect(made).toMatchObject({ id: expect.any(Number), score: 42, shout: data.title.toUpperCase(), pinned: true, body: undefined });

      const em = orm.em.fork();
      const flushed = em.create(Memo, { ...data, title: `${data.title} (flushed)` });
      await em.flush();
      expect(await row(made.id)).toEqual({ ...(await row(flushed.id)), shout: expect.any(String) });
    });

    it('leaves the instance out of every identity map, with plain properties', async () => {
      const em = orm.em.fork();
      const made = (await insertOf(Memo).insertUnmanaged(em, memo())) as Memo;
      expect(em.getUnitOfWork().getIdentityMap().values()).toEqual([]);
      expect(wrap(made, true).__managed).toBeFalsy();
      made.body = 'edited';
      await em.flush();
      expect((await orm.em.fork().findOneOrFail(Memo, made.id)).body).toBeNull();
    });

    it('converts values as em.create does', async () => {
      const made = (await insertOf(Memo).insertUnmanaged(orm.em, memo({ pinned: 1, due: '2025-01-02T03:04:05.000Z' }))) as Memo;
      expect(made.pinned).toBe(true);
      expect(made.due).toEqual(new Date('2025-01-02T03:04:05.000Z'));
      expect(await orm.em.fork().findOneOrFail(Memo, made.id)).toMatchObject({ pinned: true, due: new Date('2025-01-02T03:04:05.000Z') });
    });

    it("raises MikroORM's errors for a missing value and a unique value taken, and stores nothing", async () => {
      const before = await orm.em.fork().count(Memo);
      await expect(insertOf(Memo).insertUnmanaged(orm.em, { title: `memo ${Math.random()}` })).rejects.toBeInstanceOf(ValidationError);
      const first = memo();
      await insertOf(Memo).insertUnmanaged(orm.em, first);
      await expect(insertOf(Memo).insertUnmanaged(orm.em, memo({ title: first.title }))).rejects.toBeInstanceOf(
        UniqueConstraintViolationException,
      );
      expect(await orm.em.fork().count(Memo)).toBe(before + 1);
    });

    it("says why an entity's instance must come from em.create", () => {
      expect(insertOf(Memo).unmanagedReason).toBeUndefined();
      expect(insertOf(Draft).unmanagedReason).toBe("Draft's constructor sets pinned");
      expect(insertOf(Letter).unmanagedReason).toBe("Letter's constructor takes parameters");
      expect(insertOf(Note).unmanagedReason).toBe('Note has collections or references (tags)');
    });
  });
});
