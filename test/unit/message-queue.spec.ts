import { MessageQueue } from '../../lib/call/message-queue';

describe('MessageQueue', () => {
  it('asks the producer to wait at the high-water mark and says when it may go on', () => {
    let drains = 0;
    const queue = new MessageQueue<number>({ highWaterMark: 2, onDrain: () => drains++ });
    expect(queue.push(1)).toBe(true);
    expect(queue.push(2)).toBe(false);
    expect(queue.hasRoom).toBe(false);
    expect(queue.shift()).toBe(1);
    expect(drains).toBe(1);
    expect(queue.shift()).toBe(2);
    // Room that was never refused is not announced.
    expect(drains).toBe(1);
    queue.push(3);
    queue.shift();
    expect(drains).toBe(1);
  });

  it('gives a waiting taker the next message, then ends after what is queued', async () => {
    const queue = new MessageQueue<string>();
    const first = queue.next();
    queue.push('a');
    expect(await first).toEqual({ done: false, value: 'a' });
    queue.push('b');
    queue.end();
    queue.push('dropped');
    const taken: string[] = [];
    for await (const item of queue) taken.push(item);
    expect(taken).toEqual(['b']);
  });

  it('throws a failure after the messages before it, and a later failure wins over an end', async () => {
    const queue = new MessageQueue<string>();
    queue.push('a');
    queue.end();
    queue.fail(new Error('broke'));
    expect(await queue.next()).toEqual({ done: false, value: 'a' });
    await expect(queue.next()).rejects.toThrow('broke');
  });

  it('takes batches, waiting for the first message of each', async () => {
    const queue = new MessageQueue<number>();
    const batch = queue.nextBatch();
    queue.push(1);
    queue.push(2);
    // The taker runs once the producer yields: it takes what arrived by then.
    expect(await batch).toEqual([1, 2]);
    queue.push(3);
    expect(await queue.nextBatch()).toEqual([3]);
    queue.end();
    expect(await queue.nextBatch()).toBeUndefined();
  });

  it('announces demand when a taker waits on an empty queue', async () => {
    const queue = new MessageQueue<number>();
    let wanted = false;
    const demand = queue.wanted().then(() => (wanted = true));
    await Promise.resolve();
    expect(wanted).toBe(false);
    const taken = queue.next();
    await demand;
    expect(wanted).toBe(true);
    expect(queue.wanting).toBe(true);
    queue.push(7);
    expect(queue.wanting).toBe(false);
    expect(await taken).toEqual({ done: false, value: 7 });
  });

  it('lets an iteration end early without waiting for a message', async () => {
    const queue = new MessageQueue<number>();
    const iterator = queue[Symbol.asyncIterator]();
    void iterator.next();
    await expect(iterator.return!()).resolves.toEqual({ done: true, value: undefined });
  });

  it('drops what is queued on clear and lets a full producer go on', () => {
    let drains = 0;
    const queue = new MessageQueue<number>({ highWaterMark: 1, onDrain: () => drains++ });
    queue.push(1);
    queue.clear();
    expect(queue.length).toBe(0);
    expect(drains).toBe(1);
  });
});
