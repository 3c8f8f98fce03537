import { status } from '@grpc/grpc-js';
import type { Logger } from '@nestjs/common';
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
      this.logger.warn(`${outage.unreported} more calls got UNAVAILABLE in the last ${Math.round((now - outage.lastReport) / 1000)} s: the database is still unavailable.`);
      outage.lastReport = now;
      outage.unreported = 0;
    }
  }
}

export function stackOf(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0] : String(error);
}
