import { Entity, ManyToOne, Opt, PrimaryKey, Property } from '@mikro-orm/core';
import { Book } from './book.entity';
import { Member } from './member.entity';

@Entity({ tableName: 'bookstore_review' })
export class Review {
  @PrimaryKey()
  id!: number;

  // MikroORM indexes the foreign key: a book's reviews are read together.
  @ManyToOne(() => Book, { deleteRule: 'cascade' })
  book!: Book;

  /** The member who wrote it (set from the caller on Create); only they, or staff, may change it. */
  @ManyToOne(() => Member, { nullable: true, deleteRule: 'set null' })
  member?: Member | null;

  /** 1 to 5 stars (checked by `ReviewSerializer`). */
  @Property()
  rating!: number;

  @Property({ type: 'text', default: '' })
  text: string & Opt = '';
}
