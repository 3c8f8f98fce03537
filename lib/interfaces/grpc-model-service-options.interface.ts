import type { Authenticator } from '../auth/authenticator';
import type { ServicePermissions } from '../auth/permissions';
import type { FilterFields } from '../querying/list-querying';
import type { FilterBackend, PaginationBackend } from '../querying/list-backends';
import type { ProtoSerializerClass } from '../serializers/proto-serializer';

/**
 * An HTTP route of an rpc (`google.api.http`), as `generateproto --module` writes it: one
 * method with its path template, the request field the body fills (`'*'`: the whole request)
 * and the response field answered (default: the whole response).
 */
export interface HttpRoute {
  get?: string;
  post?: string;
  put?: string;
  patch?: string;
  delete?: string;
  body?: string;
  responseBody?: string;
}

/** Options of `@GrpcModelService` (and `@GrpcService`). */
export interface GrpcModelServiceOptions {
  /** The fully qualified proto service this class implements, e.g. `blog_proto.PostController`. */
  service: string;
  /** The serializer of a model service (sets `serializerClass`). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  serializer?: ProtoSerializerClass<any>;
  /** Entity property used to find one object. @default the primary key */
  lookupField?: string;
  /** Request field that holds the lookup value. @default `lookupField` in snake_case */
  lookupRequestField?: string;
  /** Rows read per query while streaming a List. @default 500 */
  listBatchSize?: number;
  /** `Retrieve` and `List` read only the serializer's columns when they can; `false` always loads entities. @default true */
  leanReads?: boolean;
  /** `'always'`: every write runs in a transaction of the framework's, instead of the fastest path that keeps it all or nothing. @default 'when-needed' */
  writeTransactions?: 'when-needed' | 'always';
  /**
   * The fields List's `filter` may use, by proto field name, with the comparators each allows,
   * e.g. `{ title: ['=', '!=', ':'], published: ['<', '>='] }`. Only fields the serializer sends
   * qualify. @default none: `filter` is refused
   */
  filterFields?: FilterFields;
  /** The fields List's `order_by` may name. @default none: `order_by` is refused */
  orderingFields?: readonly string[];
  /** What narrows and orders a List from its request, in order (DRF's `filter_backends`). @default [new AipFilterBackend()] */
  filterBackends?: readonly FilterBackend[];
  /** How a List is paged (DRF's `pagination_class`). @default new KeysetPagination() */
  pagination?: PaginationBackend;
  /** The largest `page_size`; larger ones are lowered to it. @default 1000 */
  maxPageSize?: number;
  /** The page size of `ListPage` when the request sends none. @default 50 */
  defaultPageSize?: number;
  /** `ListPage` fills `total_size` with a count of the matching rows. @default false */
  countTotal?: boolean;
  /** The most messages one `BulkCreate` stream may send; one more is RESOURCE_EXHAUSTED. @default 10000 */
  maxBulkItems?: number;
  /** The most bytes of messages one `BulkCreate` stream may send (held until written, within `streamMemoryBytes`); more is RESOURCE_EXHAUSTED. @default 16 MiB */
  maxBulkBytes?: number;
  /** Who is calling, from the call's metadata: the first authenticator that finds a credential decides. @default the module's `authenticators` */
  authenticators?: readonly Authenticator[];
  /**
   * Permission classes, for every action or per action: `[IsAuthenticated]`, or
   * `{ default: [IsAuthenticated], Destroy: [IsAdmin] }`. @default the module's `permissions`
   */
  permissions?: ServicePermissions;
  /**
   * An object the caller may not see (refused by `hasObjectPermission`) is NOT_FOUND, as if it
   * did not exist, instead of PERMISSION_DENIED. @default false
   */
  hideForbiddenObjects?: boolean;
  /**
   * HTTP routes of the mixins' rpcs, which `generateproto --module` writes as `google.api.http`
   * options: `{ Retrieve: { get: '/v1/books/{id}' }, Create: { post: '/v1/books', body: '*' } }`
   * (a custom action takes its own in `@GrpcAction({ http })`). Declare a route here or in the
   * .proto, not both: the one here replaces the file's.
   */
  http?: Readonly<Record<string, HttpRoute>>;
}
