import { status } from '@grpc/grpc-js';
import type { Logger } from '@nestjs/common';
import { DriverException } from '@mikro-orm/core';
import { driverMessageOf } from '../errors/driver-message';
import type { MappedStatus } from '../errors/to-grpc-status';

/** While the database stays unavailable, how often the calls it failed are counted in the log. */
const OUTAGE_REPORT_MS = 10_000;
/** After this long without a failure, the next one starts a new outage (logged in full again). */
const OUTAGE_OVER_MS = 30_000;

/**
 * Logs the failures clients cannot act on. Each unexpected error is logged with its stack,
 * except while the database is unavailable: then every call fails the same way, so the first
 * is logged and the rest are counted, once every 10 seconds.
 */
export class FailureLog {
  private outage?: { lastFailure: number; lastReport: number; unreported: number };

  constructor(
    private readonly logger: Pick<Logger, 'error' | 'warn'>,
    private readonly now: () => number = Date.now,
  ) {}

  failed(path: string, error: unknown, mapped: MappedStatus): void {
    if (!mapped.unexpected) return;
    if (mapped.code !== status.UNAVAILABLE) {
      this.logger.error(`${path} failed`, stackOf(error));
      return;
    }
    const now = this.now();
    const outage = this.outage;
    if (!outage || now - outage.lastFailure > OUTAGE_OVER_MS) {
      this.outage = { lastFailure: now, lastReport: now, unreported: 0 };
      this.logger.error(
        `The database is unavailable (${messageOf(error)}): calls get UNAVAILABLE until it is back; ` +
          `their number is logged every ${OUTAGE_REPORT_MS / 1000} s meanwhile.`,
      );
      return;
    }
    outage.lastFailure = now;
    outage.unreported++;
    if (now - outage.lastReport >= OUTAGE_REPORT_MS) {
      this.logger.warn(
        `${outage.unreported} more calls got UNAVAILABLE in the last ${Math.round((now - outage.lastReport) / 1000)} s: the database is still unavailable.`,
      );
      outage.lastReport = now;
      outage.unreported = 0;
    }
  }
}

/** An error's stack for the log; of a database error, only what the driver said (see `driverMessageOf`). */
export function stackOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const message = loggableMessage(error);
  if (message === error.message) return error.stack ?? error.message;
  const frames = (error.stack ?? '').split('\n').filter((line) => line.trim().startsWith('at '));
  return [`${error.name}: ${message}`, ...frames].join('\n');
}

function messageOf(error: unknown): string {
  return error instanceof Error ? loggableMessage(error).split('\n')[0] : String(error);
}

function loggableMessage(error: Error): string {
  if (!(error instanceof DriverException)) return error.message;
  const said = driverMessageOf(error);
  return said === error.message ? said : `${said} (the SQL is not logged: it holds request values)`;
}
