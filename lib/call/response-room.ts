/**
 * How much a server stream's handler may read now: what the response stream takes before it
 * waits for the client. A handler that reads no more than this holds nothing while its client
 * does not read (List reads this way).
 */
export interface ResponseRoom {
  /** The bytes the stream takes now before it waits for the client (0 when it waits). */
  readonly bytes: number;
  /**
   * Resolves once the stream takes `bytes` more (all of `STREAM_PENDING_BYTES` at most), or the
   * call is over. What the stream holds is sent first.
   */
  wait(bytes: number): Promise<void>;
}
