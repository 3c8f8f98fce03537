/** How often in-flight unary calls are checked against their deadlines. */
const SWEEP_MS = 50;

interface Watched {
  at: number;
  expire(): void;
}

/**
 * The deadlines of in-flight unary calls, checked by one timer every 50 ms rather than by a
 * timer per call (a call then pays a Set insertion, not a timer). A client's own deadline is
 * answered by grpc-js at once; this answers the server's `callTimeoutMs`, a little late at worst.
 */
export class DeadlineWatch {
  private readonly watched = new Set<Watched>();
  private timer?: NodeJS.Timeout;

  /** Calls `expire` once `at` (epoch ms) has passed, unless `release` comes first. */
  watch(at: number, expire: () => void): () => void {
    const entry: Watched = { at, expire };
    this.watched.add(entry);
    if (!this.timer) {
      this.timer = setInterval(() => this.sweep(), SWEEP_MS);
      this.timer.unref();
    }
    return () => this.release(entry);
  }

  private release(entry: Watched): void {
    this.watched.delete(entry);
    if (!this.watched.size && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private sweep(): void {
    const now = Date.now();
    for (const entry of this.watched) {
      if (entry.at > now) continue;
      this.release(entry);
      entry.expire();
    }
  }
}
