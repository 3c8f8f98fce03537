import { status } from '@grpc/grpc-js';
import { HeldMessages } from '../../lib/services/held-messages';
import { StreamMemory } from '../../lib/call/stream-memory';

describe('HeldMessages', () => {
  const signal = new AbortController().signal;

  it("counts a stream's messages against its own limit and the server's budget, and gives them back", async () => {
    const memory = new StreamMemory(1000);
    const first = new HeldMessages(memory, 700, signal);
    await first.hold(400);
    await first.hold(300);
    await expect(first.hold(1)).rejects.toMatchObject({
      code: status.RESOURCE_EXHAUSTED,
      message: expect.stringContaining('at most 700 bytes of messages (maxBulkBytes)'),
    });

    // Another stream that already holds some, and finds no room, is refused rather than left waiting.
    const second = new HeldMessages(memory, 700, signal);
    await second.hold(300);
    await expect(second.hold(1)).rejects.toMatchObject({
      code: status.RESOURCE_EXHAUSTED,
      message: expect.stringContaining('(streamMemoryBytes)'),
    });

    // One that holds nothing waits for room, which a release makes.
    const third = new HeldMessages(memory, 700, signal);
    let held = false;
    const waiting = third.hold(500).then(() => (held = true));
    await Promise.resolve();
    expect(held).toBe(false);
    first.release();
    await waiting;
    expect(held).toBe(true);
    second.release();
    third.release();
    await new HeldMessages(memory, 2000, signal).hold(1000); // everything was given back
  });
});
