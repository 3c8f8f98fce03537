import { status } from '@grpc/grpc-js';
import { FailureLog } from '../../lib/server/failure-log';

describe('FailureLog', () => {
  const unavailable = { code: status.UNAVAILABLE, details: 'The database is unavailable; try again later.', unexpected: true };
  const internal = { code: status.INTERNAL, details: 'Internal server error', unexpected: true };

  function logWith(clock: { now: number }) {
    const lines: string[] = [];
    const log = new FailureLog({ error: (message: string) => lines.push(`error ${message}`), warn: (message: string) => lines.push(`warn ${message}`) }, () => clock.now);
    return { log, lines };
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
});
