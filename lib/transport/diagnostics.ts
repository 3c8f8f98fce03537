import { channel } from 'node:diagnostics_channel';

/**
 * The `node:diagnostics_channel` name on which the server tells how its response streams
 * (List and other server-streaming or bidi rpcs) go: when one stops writing until its client
 * takes what it was sent (HTTP/2 flow control, or the transport's queue is full), when it goes
 * on, and when it has ended. Subscribe to see slow or stalled clients; nothing is published,
 * and nothing costs, while no one subscribes.
 *
 * @publicApi
 */
export const STREAM_STATE_CHANNEL = 'nestjs-grpc-framework:stream-state';

/** What `STREAM_STATE_CHANNEL` publishes. */
export interface StreamStateMessage {
  /** The rpc's path, `/package.Service/Method`. */
  rpc: string;
  /**
   * `waiting`: the stream stopped writing until its client takes more; `writing`: it goes on
   * (its client took enough, or the call ended); `ended`: its handler is done (finished, failed
   * or cancelled) and reads nothing more.
   */
  state: 'waiting' | 'writing' | 'ended';
}

const streamState = channel(STREAM_STATE_CHANNEL);

export function publishStreamState(rpc: string, state: StreamStateMessage['state']): void {
  if (streamState.hasSubscribers) streamState.publish({ rpc, state } satisfies StreamStateMessage);
}
