import type { EntityManager } from '@mikro-orm/core';

/** What a write's first call left for its retries (AIP-155 `request_id`). */
export interface StoredResponse {
  requestHash: string;
  response: Buffer;
}

/** Where idempotent writes keep their responses (`RequestRecords`, over the `grpc_framework_request` table). */
export interface RequestRecordStore {
  /** How long a response is kept for retries, in milliseconds. */
  readonly retentionMs: number;
  /** The live record of `requestId` for `rpc`, read from the primary. */
  find(em: EntityManager, rpc: string, requestId: string): Promise<StoredResponse | undefined>;
  /** Stores a response in the transaction of `em`; false when a live record of the id is there already. */
  store(em: EntityManager, rpc: string, requestId: string, requestHash: string, response: Buffer): Promise<boolean>;
  /** Deletes the records past the retention period; resolves with how many. */
  deleteExpired(em: EntityManager): Promise<number>;
}
