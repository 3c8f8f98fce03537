import type { CallContext } from '../server/call-context';
import type { ProtoMessage } from '../serializers/proto-serializer';
import { Constructor, GenericServiceConstructor, nameMixin } from './constructor.type';

export interface ListModelActions {
  /** Streams every object of the queryset (server streaming), yielding one batch of messages per query. */
  List(request: ProtoMessage, context: CallContext): AsyncIterable<ProtoMessage[]>;
}

/**
 * Adds `List`: a server stream of one message per object, read from the database in batches
 * as the client consumes them, stopping when the client cancels or the deadline passes.
 *
 * @publicApi
 */
export function ListModelMixin<TBase extends GenericServiceConstructor>(Base: TBase): TBase & Constructor<ListModelActions> {
  class ListModel extends Base implements ListModelActions {
    async *List(): AsyncGenerator<ProtoMessage[]> {
      for await (const batch of this.listBatches()) {
        yield this.getSerializer(batch, { many: true }).messages; // the transport writes a batch message by message
      }
    }
  }
  nameMixin(ListModel, 'ListModelMixin', Base);
  return ListModel;
}
