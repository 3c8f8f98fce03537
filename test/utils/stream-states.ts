import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { STREAM_STATE_CHANNEL, StreamStateMessage } from 'nestjs-grpc-framework';

type State = StreamStateMessage['state'];

/**
 * Follows the response stream of one rpc from what the server publishes on
 * STREAM_STATE_CHANNEL, so that a test waits for the server to stop (or end) instead of
 * sleeping and hoping it has. One stream of `rpc` at a time.
 */
export class StreamStates {
  private current?: State;
  private resumes = 0;
  private readonly listeners: Array<() => void> = [];
  private readonly onMessage = (message: unknown): void => {
    const { rpc, state } = message as StreamStateMessage;
    if (rpc !== this.rpc) return;
    this.current = state;
    if (state === 'writing') this.resumes++;
    for (const listener of this.listeners.splice(0)) listener();
  };

  constructor(private readonly rpc: string) {
    subscribe(STREAM_STATE_CHANNEL, this.onMessage);
  }

  /** Resolves once the stream is in `state` (at once if it is); rejects after `ms`. */
  async until(state: State, ms = 10_000): Promise<void> {
    const until = Date.now() + ms;
    while (this.current !== state) {
      const left = until - Date.now();
      if (left <= 0) throw new Error(`${this.rpc} was not ${state} within ${ms} ms (it is ${this.current ?? 'not seen'})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.listeners.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /**
   * Resolves once the stream waits for good: waiting, and still waiting (not having gone on in
   * between) after `roundTrip` (another call the server answers meanwhile). A client may take
   * a little more after it stops reading, so a first wait is not always the last.
   */
  async untilStalled(roundTrip: () => Promise<unknown>, tries = 50): Promise<void> {
    for (let i = 0; i < tries; i++) {
      await this.until('waiting');
      const { resumes } = this.state();
      await roundTrip();
      if (this.current === 'waiting' && this.resumes === resumes) return;
    }
    throw new Error(`${this.rpc} went on writing after each of ${tries} waits`);
  }

  /** The stream's last state, and how many times it went on writing after a wait. */
  state(): { state?: State; resumes: number } {
    return { state: this.current, resumes: this.resumes };
  }

  close(): void {
    unsubscribe(STREAM_STATE_CHANNEL, this.onMessage);
  }
}
