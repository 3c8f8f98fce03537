import type { CallContext } from '../call/call-context';
import { KeyValue, PageTokenError } from '../call/page-token';
import { invalidListField, ListNarrowing } from './list-querying';
import { listQueryingOf, QueryableService } from './list-querying-of';

/** One List call, as its backends read it. */
export interface ListCall {
  /** The request message: `filter`, `order_by`, `page_size`, `page_token`, and any field a backend of yours reads. */
  readonly request: Readonly<Record<string, unknown>>;
  /** The service listing: its attributes (`filterFields`, `maxPageSize`, ...) are the backends' settings. */
  readonly service: QueryableService & { readonly maxPageSize: number };
  readonly context: CallContext;
}

/**
 * Narrows or orders a List from its request, as Django REST framework's `filter_backends` do:
 * a service's backends run in order, their conditions ANDed, the last order given winning.
 * One instance serves every call, so it keeps no state of a call.
 *
 * @publicApi
 */
export interface FilterBackend {
  /** What the request asks of this backend (undefined: nothing); INVALID_ARGUMENT naming the field for what it refuses. */
  narrowing(call: ListCall): ListNarrowing | undefined;
}

/** Where a page starts and how many rows it has (undefined: the rest). */
export interface PageRequest {
  readonly size?: number;
  readonly after?: KeyValue[];
}

/**
 * Pages a List, as Django REST framework's `pagination_class` does. Pages are keyset pages
 * (each starts after the last row of the one before, in the List's order), which stay right
 * while rows are written and cost the same at any depth.
 *
 * @publicApi
 */
export interface PaginationBackend {
  /** The page the request asks for; `defaultSize` when it asks no size (undefined: every row). `key` binds its tokens to the query. */
  page(call: ListCall, key: string, defaultSize: number | undefined): PageRequest;
  /** The token of the page after one that ended, with rows left, at the row whose order values are `after`. */
  nextPageToken(call: ListCall, key: string, after: KeyValue[]): string;
}

/**
 * AIP-160 `filter` and AIP-132 `order_by`, within the service's allowlists (`filterFields`,
 * `orderingFields`). The default filter backend.
 *
 * @publicApi
 */
export class AipFilterBackend implements FilterBackend {
  narrowing(call: ListCall): ListNarrowing | undefined {
    const { filter, order_by: orderBy } = call.request;
    // Always a key, so tokens of a List without filter or order are bound to that.
    if (!filter && !orderBy) return NO_NARROWING;
    return listQueryingOf(call.service, call.context.readEm).narrowing(String(filter ?? ''), String(orderBy ?? ''));
  }
}

const NO_NARROWING: ListNarrowing = Object.freeze({ key: '\n' });
const WHOLE_LIST: PageRequest = Object.freeze({});

/**
 * AIP-158 `page_size` and `page_token`: a size above the service's `maxPageSize` is lowered to
 * it, and tokens are signed (`pageTokenSecret`) and bound to the service and the query. The
 * default pagination.
 *
 * @publicApi
 */
export class KeysetPagination implements PaginationBackend {
  page(call: ListCall, key: string, defaultSize: number | undefined): PageRequest {
    const { page_size: sizeField, page_token: token } = call.request;
    if (!sizeField && !token && defaultSize === undefined) return WHOLE_LIST;
    const sent = Number(sizeField ?? 0); // an int64 page_size arrives as a string
    if (!Number.isInteger(sent) || sent < 0) throw invalidListField('page_size', `page_size must be 0 or more, not ${sent}.`);
    // AIP-158: a page size above the maximum is lowered to it, not refused.
    const wanted = sent === 0 ? defaultSize : sent;
    const size = wanted === undefined ? undefined : Math.min(wanted, call.service.maxPageSize);
    if (!token) return { size };
    try {
      return { size, after: call.context.pageTokens.decode(key, String(token)).after };
    } catch (error) {
      throw error instanceof PageTokenError ? invalidListField('page_token', error.message) : error;
    }
  }

  nextPageToken(call: ListCall, key: string, after: KeyValue[]): string {
    return call.context.pageTokens.encode(key, { after });
  }
}
