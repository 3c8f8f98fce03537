import { Entity, ManyToOne, Opt, PrimaryKey, Property } from '@mikro-orm/core';
import { Book } from './book.entity';

@Entity({ tableName: 'bookstore_review' })
export class Review {
  @PrimaryKey()
  id!: number;

  // MikroORM indexes the foreign key: a book's reviews are read together.
  @ManyToOne(() => Book, { deleteRule: 'cascade' })
  book!: Book;

  /** 1 to 5 stars (checked by `ReviewSerializer`). */
  @Property()
  rating!: number;

  @Property({ type: 'text', default: '' })
  text: string & Opt = '';
}
