import { Entity, PrimaryKey, Property } from '@mikro-orm/core';

@Entity({ tableName: 'account_group' })
export class Group {
  @PrimaryKey()
  id!: number;

  @Property({ length: 150, unique: true })
  name!: string;
}
