import { labelPairs, LatencyHistogram } from '../../lib/transport/latency-histogram';

describe('LatencyHistogram', () => {
  it('writes cumulative buckets, +Inf, the sum and the count in the text format', () => {
    const histogram = new LatencyHistogram([0.01, 0.1, 1]);
    for (const seconds of [0.005, 0.01, 0.05, 0.5, 3]) histogram.observe(seconds);
    expect(histogram.lines('h', 'a="x"')).toEqual([
      'h_bucket{le="0.01",a="x"} 2',
      'h_bucket{le="0.1",a="x"} 3',
      'h_bucket{le="1",a="x"} 4',
      'h_bucket{le="+Inf",a="x"} 5',
      'h_sum{a="x"} 3.565',
      'h_count{a="x"} 5',
    ]);
  });

  it('writes nothing before its first observation', () => {
    expect(new LatencyHistogram([1]).lines('h', 'a="x"')).toEqual([]);
  });

  it('escapes label values as Prometheus reads them', () => {
    expect(labelPairs({ a: 'plain', b: 'quote " backslash \\ newline \n' })).toBe('a="plain",b="quote \\" backslash \\\\ newline \\n"');
  });
});
