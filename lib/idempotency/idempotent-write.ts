import type { EntityManager } from '@mikro-orm/core';
import type { CallContext } from '../call/call-context';
import { ValidationFailedError } from '../errors/grpc-error';
import { createHash, Hash } from 'node:crypto';
import { canonicalRequest } from './request-fingerprint';
import type { RequestRecordStore, StoredResponse } from '../call/request-record-store';

/** The request field that makes a write idempotent (AIP-155). */
export const REQUEST_ID_FIELD = 'request_id';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The `request_id` of a write's request: undefined when the request has none (or sends it
 * empty), INVALID_ARGUMENT naming the field when it is not a UUID.
 */
export function requestIdOf(request: unknown, field = REQUEST_ID_FIELD): string | undefined {
  const id = sentRequestId(request);
  if (id === undefined) return undefined;
  if (!UUID.test(id)) {
    throw new ValidationFailedError([
      { field, description: 'Must be a UUID (e.g. from crypto.randomUUID()), the same on every retry of this request.' },
    ]);
  }
  return id.toLowerCase();
}

/** The `request_id` a request sends, as it sends it; undefined when it has none or sends it empty. */
export function sentRequestId(request: unknown): string | undefined {
  const id = (request as Record<string, unknown> | null | undefined)?.[REQUEST_ID_FIELD];
  return typeof id === 'string' && id !== '' ? id : undefined;
}

/**
 * The request id of a request stream (BulkCreate's): its first message's `request_id`, which
 * the others repeat or leave empty; the fingerprint covers every message. Fed each message as
 * the stream is read (`see`), so nothing more is kept.
 */
export class StreamRequestId {
  private id?: string;
  /** Made only for a stream with an id: a stream without one (the usual BulkCreate) costs nothing per message. */
  private hash?: Hash;
  private index = 0;
  private digest?: string;

  /** The stream's request id, once it has been read; undefined without one. */
  get requestId(): string | undefined {
    return this.id;
  }

  /** The fingerprint of the whole stream, once it has been read (a stream with a request id). */
  fingerprint(): string {
    return (this.digest ??= this.hash!.digest('hex'));
  }

  /** Takes the next message of the stream into account: INVALID_ARGUMENT when its request_id is not the stream's. */
  see(message: unknown): void {
    const index = this.index++;
    if (index === 0) {
      this.id = requestIdOf(message, `items[0].${REQUEST_ID_FIELD}`);
      if (this.id) this.hash = createHash('sha256');
    } else {
      const sent = sentRequestId(message);
      if (sent !== undefined && sent.toLowerCase() !== this.id) {
        throw new ValidationFailedError([
          {
            field: `items[${index}].${REQUEST_ID_FIELD}`,
            description: 'A stream has one request_id: send it in the first message, and the same or none in the others.',
          },
        ]);
      }
    }
    this.hash?.update(canonicalRequest(message)).update('\n');
  }
}

/** What an idempotent write needs of its service: the call, its EntityManager and its transactions. */
export interface IdempotentScope {
  readonly context: CallContext;
  readonly em: EntityManager;
  inTransaction<R>(work: () => Promise<R>): Promise<R>;
}

/** A write whose request id another call stored first, while this one was running: its transaction is rolled back. */
class RecordedMeanwhile extends Error {}

/**
 * Runs a write once per `requestId` (AIP-155): a retry of a write that committed is answered
 * with the response stored then, without writing again. The response is stored in the write's
 * own transaction, so it exists exactly when the write does. A retry arriving while the first
 * call runs waits for it (PostgreSQL holds the second insert of the id until the first
 * transaction ends; SQLite's writer lock does the same) and then answers with its response,
 * or writes itself when the first failed. The same id with a different request is
 * INVALID_ARGUMENT.
 */
export async function idempotently<R>(
  scope: IdempotentScope,
  records: RequestRecordStore,
  requestId: string,
  hash: string,
  work: () => Promise<R>,
): Promise<R> {
  const { context } = scope;
  const rpc = context.call.getPath();
  const stored = await records.find(context.readEm, rpc, requestId);
  if (stored) return replay(context, stored, hash, requestId);
  try {
    return await scope.inTransaction(async () => {
      const result = await work();
      const message = context.serializeResponse ? await context.serializeResponse(result) : (result ?? {});
      const response = context.encodeResponse(message);
      if (!(await records.store(scope.em, rpc, requestId, hash, response))) throw new RecordedMeanwhile();
      return result;
    });
  } catch (error) {
    // Another call with this id committed while this one ran (its write may have been refused
    // for it, e.g. by a unique key): that call's response is the answer.
    const meanwhile = await records.find(context.readEm, rpc, requestId);
    if (meanwhile) return replay(context, meanwhile, hash, requestId);
    throw error;
  }
}

/**
 * The stored response of a write already done under `requestId` with the same request, or
 * undefined: for a write that checks its request before it can run `idempotently` (a stream's
 * messages are validated as they arrive, and a retry's are refused as duplicates of the rows
 * the first call wrote).
 */
export async function storedAnswer(context: CallContext, records: RequestRecordStore, requestId: string, hash: string): Promise<unknown> {
  const stored = await records.find(context.readEm, context.call.getPath(), requestId);
  return stored && stored.requestHash === hash ? context.replayResponse(stored.response) : undefined;
}

function replay<R>(context: CallContext, stored: StoredResponse, hash: string, requestId: string): R {
  if (stored.requestHash !== hash) {
    throw new ValidationFailedError([
      {
        field: REQUEST_ID_FIELD,
        description: `${requestId} was used by a different request to this rpc; a retry must send the same request, and a new request a new request_id.`,
      },
    ]);
  }
  return context.replayResponse(stored.response) as R;
}
