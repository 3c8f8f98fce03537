import { EntitySchema } from '@mikro-orm/core';

/**
 * A write's response, kept under the `request_id` its client chose (AIP-155), so a retry with
 * that id is answered with it instead of writing again. Add `GrpcRequestRecord` to MikroORM's
 * `entities` (its table, `grpc_framework_request`, then comes with the schema generator or a
 * migration) when a write rpc's request has a `request_id` field.
 *
 * @publicApi
 */
export interface GrpcRequestRecord {
  /** The rpc's path, e.g. `/bookstore.BookController/Create`: an id is the client's per rpc. */
  rpc: string;
  requestId: string;
  /** SHA-256 of the request, so the same id with another request is refused. */
  requestHash: string;
  /** The response message's bytes, as they were sent. */
  response: Buffer;
  /** When it was written, in epoch milliseconds. */
  createdAt: string;
}

export const GrpcRequestRecord = new EntitySchema<GrpcRequestRecord>({
  name: 'GrpcRequestRecord',
  tableName: 'grpc_framework_request',
  properties: {
    rpc: { type: 'string', length: 255, primary: true },
    requestId: { type: 'string', length: 36, primary: true },
    requestHash: { type: 'string', length: 64 },
    response: { type: 'blob' },
    createdAt: { type: 'bigint', index: true },
  },
});
