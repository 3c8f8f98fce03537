import { Entity, PrimaryKey, Property } from '@mikro-orm/core';

@Entity({ tableName: 'bookstore_author' })
export class Author {
  @PrimaryKey()
  id!: number;

  @Property({ length: 100 })
  name!: string;
}
