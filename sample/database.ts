import { BetterSqliteDriver } from '@mikro-orm/better-sqlite';
import type { Options } from '@mikro-orm/core';
import { Group } from './account/group.entity';
import { User } from './account/user.entity';
import { Post } from './blog/post.entity';
import { Person } from './hrm/person.entity';
import { Snippet } from './snippets/snippet.entity';

export const SAMPLE_ENTITIES = [User, Group, Post, Person, Snippet];

/** MikroORM options of the sample: an SQLite file by default. */
export function sampleDatabaseOptions(dbName = 'sample.sqlite3'): Options {
  return {
    driver: BetterSqliteDriver,
    dbName,
    entities: SAMPLE_ENTITIES,
    allowGlobalContext: false,
    debug: false,
  };
}
