import { Entity, PrimaryKey, Property } from '@mikro-orm/core';

@Entity({ tableName: 'hrm_person' })
export class Person {
  @PrimaryKey()
  id!: number;

  @Property({ length: 100 })
  name!: string;

  @Property({ length: 100 })
  email!: string;
}
