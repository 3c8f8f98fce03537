import { Collection, Entity, ManyToMany, PrimaryKey, Property } from '@mikro-orm/core';
import { Group } from './group.entity';

/** The fields of Django's auth user that the quickstart uses. */
@Entity({ tableName: 'account_user' })
export class User {
  @PrimaryKey()
  id!: number;

  @Property({ length: 150, unique: true })
  username!: string;

  @Property({ length: 254, default: '' })
  email: string = '';

  @ManyToMany(() => Group)
  groups = new Collection<Group>(this);

  @Property({ onCreate: () => new Date() })
  dateJoined?: Date;
}
