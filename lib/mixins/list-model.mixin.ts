import type { CallContext } from '../call/call-context';
import type { ProtoMessage } from '../serializers/proto-serializer';
import { Constructor, GenericServiceConstructor, nameMixin } from './constructor.type';
import { databaseErrorKind } from '../errors/to-grpc-status';

/** The trailing metadata key of a streaming List's next page token. */
export const NEXT_PAGE_TOKEN_KEY = 'next-page-token';

export interface ListModelActions {
  /** Streams the queryset's objects (server streaming), yielding one batch of messages per query. */
  List(request: ProtoMessage, context: CallContext): AsyncIterable<ProtoMessage[]>;
}

/**
 * Adds `List`: a server stream of one message per object, read from the database in batches
 * as the client consumes them, stopping when the client cancels or the deadline passes.
 *
 * When its request message declares them, `filter`, `order_by`, `page_size` and `page_token`
 * narrow, order and page the stream (see `filterFields`, `orderingFields`); a page that ends
 * with rows left sends the next page's token in the trailing metadata `next-page-token`.
 *
 * @publicApi
 */
export function ListModelMixin<TBase extends GenericServiceConstructor>(Base: TBase): TBase & Constructor<ListModelActions> {
  class ListModel extends Base implements ListModelActions {
    List(): AsyncGenerator<ProtoMessage[]> {
      const context = this.context;
      if (!context.readsReplicas) return this.listMessages();
      return context.readsPrimary ? this.onPrimary(this.listMessages()) : this.fallingBackToPrimary();
    }

    /**
     * The messages read from a replica, or from the primary when the replica is unavailable
     * before the first batch (after it, the client has messages and the stream fails instead).
     */
    private async *fallingBackToPrimary(): AsyncGenerator<ProtoMessage[]> {
      const messages = this.listMessages();
      let first: IteratorResult<ProtoMessage[]>;
      try {
        first = await messages.next();
      } catch (error) {
        if (databaseErrorKind(error) !== 'unavailable') throw error;
        yield* this.onPrimary(this.listMessages());
        return;
      }
      if (first.done) return;
      yield first.value;
      yield* messages;
    }

    /** The queryset's messages, a batch at a time, then the next page's token in the trailers. */
    private async *listMessages(): AsyncGenerator<ProtoMessage[]> {
      const batches = this.listBatches(this.listQuery());
      for await (const batch of batches) {
        const messages = (await this.getSerializer(batch, { many: true }).load()).messages;
        yield messages; // the transport writes a batch message by message
        // Written: emptied, so nothing keeps its messages while the next batch waits for memory.
        messages.length = 0;
      }
      if (batches.nextPageToken) this.context.trailingMetadata.set(NEXT_PAGE_TOKEN_KEY, batches.nextPageToken);
    }

    /** `messages` read in a transaction, so on the primary (a caller reading its own recent write). */
    private async *onPrimary(messages: AsyncGenerator<ProtoMessage[]>): AsyncGenerator<ProtoMessage[]> {
      const em = this.em;
      await em.begin();
      try {
        yield* messages;
      } finally {
        await em.commit().catch(() => undefined);
      }
    }
  }
  nameMixin(ListModel, 'ListModelMixin', Base);
  return ListModel;
}
