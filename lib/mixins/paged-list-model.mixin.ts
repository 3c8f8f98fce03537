import { ImproperlyConfiguredError } from '../errors/improperly-configured.error';
import { pageResponseShape } from '../querying/page-response';
import type { CallContext } from '../call/call-context';
import type { ProtoMessage } from '../serializers/proto-serializer';
import { Constructor, GenericServiceConstructor, nameMixin } from './constructor.type';

export interface PagedListModelActions {
  /** One page of the queryset's objects in one response, with the next page's token (AIP-158). */
  ListPage(request: ProtoMessage, context: CallContext): Promise<ProtoMessage>;
}

/**
 * Adds `ListPage`: a unary List for clients that prefer one response to a stream (browsers,
 * HTTP/JSON). Its response message has a `repeated <Model>` field (or `results`),
 * `string next_page_token` (empty on the last page) and optionally `total_size`, filled when
 * the service sets `countTotal`. The request's `filter`, `order_by`, `page_size` (default
 * `defaultPageSize`) and `page_token` work as in `List`.
 *
 * @publicApi
 */
export function PagedListModelMixin<TBase extends GenericServiceConstructor>(Base: TBase): TBase & Constructor<PagedListModelActions> {
  class PagedListModel extends Base implements PagedListModelActions {
    async ListPage(): Promise<ProtoMessage> {
      return this.readWhereItMust(() => this.listPage());
    }

    /** One page of the queryset, its next page's token and (with `countTotal`) the total. */
    private async listPage(): Promise<ProtoMessage> {
      const shape = pageResponseShape(this.context.responseType);
      if (typeof shape === 'string') throw new ImproperlyConfiguredError(`${this.constructor.name}.ListPage: ${shape}`);
      const query = this.listQuery(this.defaultPageSize)!;
      const results: ProtoMessage[] = [];
      const batches = this.listBatches(query);
      for await (const batch of batches) results.push(...(await this.getSerializer(batch, { many: true }).load()).messages);
      const response: ProtoMessage = { [shape.results]: results, [shape.nextPageToken]: batches.nextPageToken ?? '' };
      if (shape.totalSize && this.countTotal) response[shape.totalSize] = await this.countObjects(query);
      return response;
    }
  }
  nameMixin(PagedListModel, 'PagedListModelMixin', Base);
  return PagedListModel;
}
