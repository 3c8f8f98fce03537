import { DeadlineWatch } from '../../lib/transport/deadline-watch';

describe('DeadlineWatch', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  it('expires each deadline once it has passed, in any order of watching and releasing', () => {
    const watch = new DeadlineWatch();
    const expired: string[] = [];
    watch.watch(1_000_120, () => expired.push('late'));
    const released = watch.watch(1_000_010, () => expired.push('released'));
    watch.watch(1_000_010, () => expired.push('early'));
    const middle = watch.watch(1_000_060, () => expired.push('middle'));
    watch.release(released);
    jest.advanceTimersByTime(50);
    expect(expired).toEqual(['early']);
    jest.advanceTimersByTime(50);
    expect(expired).toEqual(['early', 'middle']);
    watch.release(middle); // already expired: nothing happens
    jest.advanceTimersByTime(50);
    expect(expired).toEqual(['early', 'middle', 'late']);
    jest.advanceTimersByTime(500);
    expect(expired).toEqual(['early', 'middle', 'late']);
  });

  it('stops its timer at the first sweep with nothing to watch, and starts it again for the next call', () => {
    const watch = new DeadlineWatch();
    const entry = watch.watch(1_000_500, () => undefined);
    expect(jest.getTimerCount()).toBe(1);
    watch.release(entry);
    expect(jest.getTimerCount()).toBe(1); // calls come in bursts: kept until a sweep finds none
    jest.advanceTimersByTime(50);
    expect(jest.getTimerCount()).toBe(0);
    const expired = jest.fn();
    watch.watch(Date.now() + 20, expired);
    expect(jest.getTimerCount()).toBe(1);
    jest.advanceTimersByTime(50);
    expect(expired).toHaveBeenCalledTimes(1);
  });
});
