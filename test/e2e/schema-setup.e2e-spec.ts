import { MikroORM } from '@mikro-orm/core';
import { Post } from '../../sample/blog/post.entity';
import { startSample } from '../utils/sample-app';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TEST_DB, testDatabase } from '../utils/test-database';

describe("the sample's schema set-up", () => {
  it('adds missing tables and columns and never drops a table or a column it does not know', async () => {
    // SQLite in a file: the set-up below and the app must see the same database.
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'schema-setup-')), 'app.sqlite3');
    const db = testDatabase(TEST_DB === 'sqlite' ? { dbName: file } : {});
    // A database holding a table no registered entity maps (a Book whose forFeature was forgotten)
    // and a column the Post entity does not declare.
    const orm = await MikroORM.init({ ...db.options, entities: [Post], allowGlobalContext: true });
    try {
      await orm.getSchemaGenerator().createSchema();
      await orm.em.persistAndFlush(orm.em.create(Post, { title: 't', content: 'c' }));
      const connection = orm.em.getConnection();
      await connection.execute('create table book (id integer primary key, title varchar(50))');
      await connection.execute("insert into book (id, title) values (1, 'Dune')");
      await connection.execute('alter table blog_post add column legacy varchar(10)');
      await connection.execute("update blog_post set legacy = 'keep'");
    } finally {
      await orm.close();
    }

    const sample = await startSample({ database: db.options });
    try {
      const after = sample.orm.em.fork().getConnection();
      await expect(after.execute('select id, title from book')).resolves.toEqual([{ id: 1, title: 'Dune' }]);
      await expect(after.execute('select legacy from blog_post')).resolves.toEqual([{ legacy: 'keep' }]);
      await expect(after.execute('select count(*) as n from account_user')).resolves.toEqual([{ n: expect.anything() }]);
    } finally {
      await sample.close();
      await db.dispose();
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    }
  });
});
