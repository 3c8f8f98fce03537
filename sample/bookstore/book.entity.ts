import { Entity, Index, ManyToOne, Opt, PrimaryKey, Property } from '@mikro-orm/core';
import { Author } from './author.entity';

@Entity({ tableName: 'bookstore_book' })
export class Book {
  @PrimaryKey()
  id!: number;

  @Index() // ordering by title pages through this index
  @Property({ length: 200 })
  title!: string;

  @ManyToOne(() => Author)
  author!: Author;

  @Index()
  @Property()
  published!: Date;

  @Property()
  pages!: number;

  @Property({ default: true })
  inStock: boolean & Opt = true;
}
