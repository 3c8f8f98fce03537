import { MikroORM, UniqueConstraintViolationException } from '@mikro-orm/core';
import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Member } from './member.entity';
import { hashPassword } from './password';

/** The staff account the sample starts with (nobody can make themself staff through the API). */
export const STAFF_EMAIL = process.env.BOOKSTORE_STAFF_EMAIL ?? 'staff@bookstore.example';
export const STAFF_PASSWORD = process.env.BOOKSTORE_STAFF_PASSWORD ?? 'staff-password';

/**
 * Creates the staff member unless it exists, once the tables do (after every module's
 * `onModuleInit`, where the sample creates them). Several workers may race: the loser finds it made.
 */
@Injectable()
export class StaffMember implements OnApplicationBootstrap {
  constructor(private readonly orm: MikroORM) {}

  async onApplicationBootstrap(): Promise<void> {
    const em = this.orm.em.fork();
    if (await em.count(Member, { email: STAFF_EMAIL })) return;
    em.create(Member, { email: STAFF_EMAIL, name: 'Staff', passwordHash: await hashPassword(STAFF_PASSWORD), isStaff: true });
    await em.flush().catch((error: unknown) => {
      if (!(error instanceof UniqueConstraintViolationException)) throw error;
    });
  }
}
