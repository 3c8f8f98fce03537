import type { CallContext } from '../server/call-context';
import type { ProtoMessage } from '../serializers/proto-serializer';
import { querysetBatches } from '../services/queryset-batches';
import { Constructor, GenericServiceConstructor, nameMixin } from './constructor.type';

export interface ListModelActions {
  /** Streams every object of the queryset (server streaming), yielding one batch of messages per query. */
  List(request: ProtoMessage, context: CallContext): AsyncIterable<ProtoMessage[]>;
}

/**
 * Adds `List`: a server stream of one message per object, read from the database in batches
 * of `listBatchSize` as the client consumes them, stopping when the client cancels or the
 * deadline passes.
 *
 * @publicApi
 */
export function ListModelMixin<TBase extends GenericServiceConstructor>(Base: TBase): TBase & Constructor<ListModelActions> {
  class ListModel extends Base implements ListModelActions {
    async *List(): AsyncGenerator<ProtoMessage[]> {
      const queryset = this.filterQueryset(this.getQueryset());
      const populate = queryset.populate ?? this.serializerPopulate();
      const em = this.em;
      const reader = populate.length ? undefined : this.leanReadPlan()?.reader;
      const batches = querysetBatches(em, { ...queryset, populate }, {
        maxRows: this.listBatchSize,
        rowBytesEstimate: this.getSerializerClass().spec().rowBytesEstimate,
        signal: this.context.signal,
        reader,
        memory: this.context.streamMemory,
      });
      for await (const batch of batches) {
        const messages = this.getSerializer(batch, { many: true }).message as ProtoMessage[];
        em.clear();
        yield messages; // a batch: the transport writes it message by message, with backpressure
      }
    }
  }
  nameMixin(ListModel, 'ListModelMixin', Base);
  return ListModel;
}
