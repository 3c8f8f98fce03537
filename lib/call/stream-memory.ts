/** Batches read at once whose size is not known yet; rows can be larger than any limit tells, so few are let in together. */
const UNMEASURED_BATCHES = 4;

/**
 * The bytes of rows that List streams together hold while they wait to be sent. A stream
 * reserves before it reads a batch, corrects the reservation to the batch's real size once
 * read, and lets go once the batch has been handed to the transport (keeping what went past
 * the response stream's room until the client takes it). However many streams run and however
 * slowly their clients read, the server then holds about `limit` of rows, plus the few batches
 * being read, plus each stream's `STREAM_PENDING_BYTES`.
 */
export class StreamMemory {
  private used = 0;
  private unmeasured = 0;
  private readonly waiting: Array<{ bytes: number; grant: () => void }> = [];

  constructor(readonly limit: number) {}

  /** The bytes held now (what metrics report). */
  get inUse(): number {
    return this.used;
  }

  /**
   * Holds `bytes` for a batch about to be read, first waiting until they fit; rejects with the
   * signal's reason if the call ends while waiting. A reservation larger than the whole limit is
   * granted when nothing else is held, so a single huge batch still makes progress.
   */
  reserve(bytes: number, signal: AbortSignal): Promise<Reservation> {
    if (signal.aborted) return Promise.reject(signal.reason);
    if (!this.waiting.length && this.fits(bytes)) return Promise.resolve(this.take(bytes));
    return new Promise((resolve, reject) => {
      const entry = {
        bytes,
        grant: () => {
          signal.removeEventListener('abort', abort);
          resolve(this.take(bytes));
        },
      };
      const abort = (): void => {
        const index = this.waiting.indexOf(entry);
        if (index >= 0) this.waiting.splice(index, 1);
        reject(signal.reason);
        this.grantWaiting();
      };
      signal.addEventListener('abort', abort, { once: true });
      this.waiting.push(entry);
    });
  }

  /**
   * Holds `bytes` of data already in memory (a client stream's messages) if they fit now,
   * without waiting: a caller that already holds some must not wait for more, or two such
   * callers could wait on each other. Undefined when they do not fit.
   */
  tryHold(bytes: number): Reservation | undefined {
    if (this.waiting.length || (this.used !== 0 && this.used + bytes > this.limit)) return undefined;
    this.used += bytes;
    return Reservation.measured(this, bytes);
  }

  private take(bytes: number): Reservation {
    this.used += bytes;
    this.unmeasured++;
    return new Reservation(this, bytes);
  }

  /** @internal A reservation's size changed (`measured`: its batch has been read). */
  change(delta: number, measured: boolean): void {
    this.used += delta;
    if (measured) this.unmeasured--;
    this.grantWaiting();
  }

  private fits(bytes: number): boolean {
    return this.unmeasured < UNMEASURED_BATCHES && (this.used === 0 || this.used + bytes <= this.limit);
  }

  private grantWaiting(): void {
    while (this.waiting.length && this.fits(this.waiting[0].bytes)) this.waiting.shift()!.grant();
  }
}

/** The bytes one batch holds in a `StreamMemory`. */
export class Reservation {
  private measured = false;
  private released = false;

  constructor(
    private readonly memory: StreamMemory,
    private bytes: number,
  ) {}

  /** @internal A reservation of data whose size is known (it was never counted as unmeasured). */
  static measured(memory: StreamMemory, bytes: number): Reservation {
    const reservation = new Reservation(memory, bytes);
    reservation.measured = true;
    return reservation;
  }

  /** The batch has been read: hold its real size from now on. */
  resize(bytes: number): void {
    if (this.released) return;
    this.memory.change(bytes - this.bytes, !this.measured);
    this.measured = true;
    this.bytes = bytes;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.memory.change(-this.bytes, !this.measured);
  }
}
