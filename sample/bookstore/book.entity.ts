import { Entity, Index, ManyToOne, Opt, PrimaryKey, Property } from '@mikro-orm/core';
import { Author } from './author.entity';

@Entity({ tableName: 'bookstore_book' })
export class Book {
  @PrimaryKey()
  id!: number;

  @Index() // ordering by title pages through this index
  @Property({ length: 200 })
  title!: string;

  @Property({ length: 13, unique: true })
  isbn!: string;

  @ManyToOne(() => Author)
  author!: Author;

  @Index()
  @Property()
  published!: Date;

  /** Exact: a decimal travels as a string ("12.50"). */
  @Property({ type: 'decimal', precision: 8, scale: 2 })
  price!: string;

  @Property({ default: true })
  inStock: boolean & Opt = true;
}
