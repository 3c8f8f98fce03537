import { status } from '@grpc/grpc-js';
import { BetterSqliteDriver } from '@mikro-orm/better-sqlite';
import { EntitySchema, MikroORM } from '@mikro-orm/core';
import { FailureLog } from '../../lib/transport/failure-log';

describe('FailureLog', () => {
  const unavailable = { code: status.UNAVAILABLE, details: 'The database is unavailable; try again later.', unexpected: true };
  const internal = { code: status.INTERNAL, details: 'Internal server error', unexpected: true };

  function logWith(clock: { now: number }) {
    const lines: string[] = [];
    const stacks: string[] = [];
    const log = new FailureLog(
      {
        error: (message: string, stack?: string) => {
          lines.push(`error ${message}`);
          if (stack) stacks.push(stack);
        },
        warn: (message: string) => lines.push(`warn ${message}`),
      },
      () => clock.now,
    );
    return { log, lines, stacks };
  }

  it('logs an outage once, then counts the calls it fails every 10 seconds, and a later outage in full again', () => {
    const clock = { now: 0 };
    const { log, lines } = logWith(clock);
    for (let i = 0; i < 400; i++) {
      clock.now = i * 25; // 40 calls a second for 10 s
      log.failed('/blog_proto.PostController/List', new Error('Connection terminated unexpectedly'), unavailable);
    }
    expect(lines).toEqual([
      'error The database is unavailable (Connection terminated unexpectedly): calls get UNAVAILABLE until it is back; their number is logged every 10 s meanwhile.',
    ]);
    clock.now = 10_000;
    log.failed('/x/Y', new Error('down'), unavailable);
    expect(lines[1]).toBe('warn 400 more calls got UNAVAILABLE in the last 10 s: the database is still unavailable.');
    clock.now = 60_000;
    log.failed('/x/Y', new Error('down again'), unavailable);
    expect(lines[2]).toMatch(/^error The database is unavailable \(down again\)/);
  });

  it('logs every other unexpected failure with its stack, and nothing for expected ones', () => {
    const { log, lines } = logWith({ now: 0 });
    log.failed('/x/Y', new Error('boom'), internal);
    log.failed('/x/Y', new Error('fine'), { ...internal, unexpected: false });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe('error /x/Y failed');
  });

  it("logs a database error without its SQL, which holds the request's values", async () => {
    // A table never created: the query fails in the database, as MikroORM reports it.
    const Thing = new EntitySchema<{ id: number; email: string }>({
      name: 'Thing',
      tableName: 'missing_table',
      properties: { id: { type: 'number', primary: true }, email: { type: 'string' } },
    });
    const orm = await MikroORM.init({ driver: BetterSqliteDriver, dbName: ':memory:', entities: [Thing] });
    const error = await orm.em
      .fork()
      .findOne(Thing, { email: 'secret@example.com - with a dash' })
      .catch((e: Error) => e);
    await orm.close();
    expect((error as Error).message).toContain('secret@example.com'); // what MikroORM and knex put in it
    const clock = { now: 0 };
    const { log, lines, stacks } = logWith(clock);
    log.failed('/x/Y', error, internal);
    expect(stacks[0]).toMatch(
      /^TableNotFoundException: no such table: missing_table \(the SQL is not logged: it holds request values\)\n\s+at /,
    );
    log.failed('/x/Y', error, unavailable);
    expect(lines.join('\n') + stacks.join('\n')).not.toContain('secret');
  });
});
