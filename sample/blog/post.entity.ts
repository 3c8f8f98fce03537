import { Entity, Index, PrimaryKey, Property } from '@mikro-orm/core';

@Entity({ tableName: 'blog_post' })
export class Post {
  @PrimaryKey()
  id!: number;

  @Property({ length: 100 })
  title!: string;

  @Property({ type: 'text' })
  content!: string;

  @Index() // List streams posts in creation order
  @Property({ onCreate: () => new Date() })
  created?: Date;
}
