/**
 * One series of a Prometheus histogram, counted in plain numbers: prom-client's `observe()`
 * checks and hashes the series' labels on every call, which a per-call histogram cannot afford.
 * Rendered in Prometheus's text format when scraped (cumulative `_bucket`s, `_sum`, `_count`).
 */
export class LatencyHistogram {
  /** Observations per bucket (not cumulative), the last one past every bound (`+Inf`). */
  private readonly counts: number[];
  private sum = 0;
  private count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }

  /** The series' lines, or none before its first observation (as prom-client writes them). */
  lines(name: string, labels: string): string[] {
    if (!this.count) return [];
    const lines: string[] = [];
    let cumulative = 0;
    this.bounds.forEach((bound, i) => {
      cumulative += this.counts[i]!;
      lines.push(`${name}_bucket{le="${bound}",${labels}} ${cumulative}`);
    });
    lines.push(`${name}_bucket{le="+Inf",${labels}} ${this.count}`);
    lines.push(`${name}_sum{${labels}} ${this.sum}`, `${name}_count{${labels}} ${this.count}`);
    return lines;
  }
}

/** Prometheus label pairs, `a="x",b="y"`, with values escaped as the text format requires. */
export function labelPairs(labels: Readonly<Record<string, string>>): string {
  return Object.entries(labels)
    .map(([name, value]) => `${name}="${value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`)
    .join(',');
}
