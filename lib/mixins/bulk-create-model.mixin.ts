import { status } from '@grpc/grpc-js';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { ValidationFailedError } from '../errors/grpc-error';
import { HeldMessages } from '../services/held-messages';
import type { ProtoMessage, ProtoSerializer } from '../serializers/proto-serializer';
import { respondMany, saveMany, validateStream } from './bulk-writes';
import { idempotently, storedAnswer, StreamRequestId } from '../idempotency/idempotent-write';
import { Constructor, GenericServiceConstructor, nameMixin } from './constructor.type';

export interface BulkCreateModelActions {
  /**
   * Client streaming: validates every message of the stream, then saves them all in one
   * transaction, or none. Answers with the created objects when the response message has a
   * repeated field of them (else with an empty response, e.g. `google.protobuf.Empty`).
   */
  BulkCreate(requests: AsyncIterable<ProtoMessage>): Promise<ProtoMessage>;
  /** Saves one new object of the stream; override to set extra values, e.g. `serializer.save({ owner })`. */
  performCreate(serializer: ProtoSerializer<object>): Promise<unknown>;
}

/**
 * Adds `BulkCreate` (`rpc BulkCreate(stream Book) returns (BookList)`): every message is
 * validated as it arrives; invalid ones are INVALID_ARGUMENT with the fields named by the
 * message's place in the stream (`items[3].isbn`), and nothing is written. At most
 * `maxBulkItems` messages and `maxBulkBytes` of them (more is RESOURCE_EXHAUSTED, read no
 * further); the messages held count against the server's `streamMemoryBytes`. A client that
 * cancels mid-stream writes nothing: the write starts when the stream has ended.
 *
 * @publicApi
 */
export function BulkCreateModelMixin<TBase extends GenericServiceConstructor>(Base: TBase): TBase & Constructor<BulkCreateModelActions> {
  class BulkCreateModel extends Base implements BulkCreateModelActions {
    async BulkCreate(requests: AsyncIterable<ProtoMessage>): Promise<ProtoMessage> {
      const held = new HeldMessages(this.context.streamMemory, this.maxBulkBytes, this.context.signal);
      const stream = new StreamRequestId();
      try {
        let serializers: ProtoSerializer<object>[];
        try {
          serializers = await validateStream(this, requests, held, (message) => stream.see(message));
        } catch (error) {
          // A retry's messages are refused as duplicates of what the first call wrote: that call's answer is the answer.
          const requestId = stream.requestId;
          const stored =
            requestId && error instanceof ValidationFailedError
              ? await storedAnswer(this.context, this.requestRecords(), requestId, stream.fingerprint())
              : undefined;
          if (stored) return stored as ProtoMessage;
          throw error;
        }
        let saved = 0;
        const writeAll = async () => {
          const messages = await saveMany(
            this,
            serializers,
            (serializer) => this.performCreate(serializer),
            (index) => (saved = index + 1),
          );
          this.context.signal.throwIfAborted(); // a client that left while it was written is not answered: undo it
          return respondMany(this, messages);
        };
        try {
          const requestId = stream.requestId;
          // With a request_id (in its first message) the stream is written once, and retries are answered.
          const response = requestId
            ? await idempotently(this, this.requestRecords(), requestId, stream.fingerprint(), writeAll)
            : await this.inTransaction(writeAll);
          this.context.markWritten();
          return response;
        } catch (error) {
          throw saved < serializers.length ? refusalOfItem(error, saved) : error;
        }
      } finally {
        held.release();
      }
    }

    performCreate(serializer: ProtoSerializer<object>): Promise<unknown> {
      return serializer.save();
    }
  }
  // A `performCreate` of the base (CreateModelMixin's, or the user's own) is the one both use.
  if (typeof (Base.prototype as { performCreate?: unknown }).performCreate === 'function') {
    delete (BulkCreateModel.prototype as { performCreate?: unknown }).performCreate;
  }
  nameMixin(BulkCreateModel, 'BulkCreateModelMixin', Base);
  return BulkCreateModel;
}

/** A refusal of the database while message `index` was written, named by its place in the stream. */
function refusalOfItem(error: unknown, index: number): unknown {
  const prefix = `items[${index}]`;
  if (error instanceof ValidationFailedError) {
    return new ValidationFailedError(
      error.fieldViolations.map((v) => ({ ...v, field: `${prefix}.${v.field}` })),
      error.code,
    );
  }
  // Its values may clash with an earlier message of the same stream, which is no longer stored to show which.
  if (error instanceof UniqueConstraintViolationException) {
    return new ValidationFailedError(
      [
        {
          field: prefix,
          description: 'A record with the same unique values already exists, or is in an earlier message of this stream.',
          reason: 'UNIQUE',
        },
      ],
      status.ALREADY_EXISTS,
    );
  }
  return error;
}
