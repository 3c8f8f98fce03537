import { Entity, Opt, PrimaryKey, Property } from '@mikro-orm/core';

@Entity({ tableName: 'bookstore_member' })
export class Member {
  @PrimaryKey()
  id!: number;

  @Property({ length: 254, unique: true })
  email!: string;

  @Property({ length: 100 })
  name!: string;

  /** `scrypt$<salt>$<key>`, never the password itself (see `password.ts`). */
  @Property({ length: 200 })
  passwordHash!: string;

  /** Staff keep the catalogue: they may create, change and delete books and authors. */
  @Property({ default: false })
  isStaff: boolean & Opt = false;
}
