/** How often in-flight unary calls are checked against their deadlines. */
const SWEEP_MS = 50;

/** A watched deadline: a link of the watch's list, so watching and releasing allocate nothing more. */
export class WatchedDeadline {
  previous?: WatchedDeadline;
  next?: WatchedDeadline;
  watched = true;

  constructor(
    readonly at: number,
    readonly expire: () => void,
  ) {}
}

/**
 * The deadlines of in-flight unary calls, checked by one timer every 50 ms rather than by a
 * timer per call (a call then pays two list links, not a timer). A client's own deadline is
 * answered by grpc-js at once; this answers the server's `callTimeoutMs`, a little late at worst.
 */
export class DeadlineWatch {
  private first?: WatchedDeadline;
  private timer?: NodeJS.Timeout;

  /** Calls `expire` once `at` (epoch ms) has passed, unless `release` comes first. */
  watch(at: number, expire: () => void): WatchedDeadline {
    const entry = new WatchedDeadline(at, expire);
    entry.next = this.first;
    if (this.first) this.first.previous = entry;
    this.first = entry;
    if (!this.timer) {
      this.timer = setInterval(() => this.sweep(), SWEEP_MS);
      this.timer.unref();
    }
    return entry;
  }

  release(entry: WatchedDeadline): void {
    if (!entry.watched) return;
    entry.watched = false;
    if (entry.previous) entry.previous.next = entry.next;
    else this.first = entry.next;
    if (entry.next) entry.next.previous = entry.previous;
    entry.previous = entry.next = undefined;
  }

  private sweep(): void {
    // The timer stops at a sweep that finds nothing to watch, not at every release: calls come
    // in bursts, and a timer made again for each burst costs more than a sweep.
    if (!this.first) {
      clearInterval(this.timer);
      this.timer = undefined;
      return;
    }
    const now = Date.now();
    const expired: WatchedDeadline[] = [];
    for (let entry: WatchedDeadline | undefined = this.first; entry; entry = entry.next) if (entry.at <= now) expired.push(entry);
    for (const entry of expired) {
      this.release(entry);
      entry.expire();
    }
  }
}
