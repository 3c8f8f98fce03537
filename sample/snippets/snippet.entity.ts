import { Entity, PrimaryKey, Property } from '@mikro-orm/core';

@Entity({ tableName: 'snippets_snippet' })
export class Snippet {
  @PrimaryKey()
  id!: number;

  @Property({ length: 100 })
  title!: string;

  @Property({ type: 'string', length: 20, nullable: true })
  language?: string | null;
}
