import type { CallContext } from '../call/call-context';
import type { ProtoMessage } from '../serializers/proto-serializer';
import { Constructor, GenericServiceConstructor, nameMixin } from './constructor.type';

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
    async *List(): AsyncGenerator<ProtoMessage[]> {
      const batches = this.listBatches(this.listQuery());
      for await (const batch of batches) {
        const messages = (await this.getSerializer(batch, { many: true }).load()).messages;
        yield messages; // the transport writes a batch message by message
        // Written: emptied, so nothing keeps its messages while the next batch waits for memory.
        messages.length = 0;
      }
      if (batches.nextPageToken) this.context.trailingMetadata.set(NEXT_PAGE_TOKEN_KEY, batches.nextPageToken);
    }
  }
  nameMixin(ListModel, 'ListModelMixin', Base);
  return ListModel;
}
