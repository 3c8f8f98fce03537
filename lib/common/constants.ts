/** Metadata key under which `@GrpcModelService` stores its options. */
export const GRPC_MODEL_SERVICE_METADATA = 'grpc-framework:model-service';

/** Per-call state of a service view (see `Service`). */
export const CALL_STATE = Symbol('grpc-framework:call-state');

export const DEFAULT_URL = '127.0.0.1:50051';
/** The largest response: what gRPC clients accept by default. */
export const DEFAULT_MAX_SEND_MESSAGE_LENGTH = 4 * 1024 * 1024;
/** The largest request: 64 KiB less, so the answer to a write (its request plus generated keys and timestamps) can be sent. */
export const DEFAULT_MAX_RECEIVE_MESSAGE_LENGTH = DEFAULT_MAX_SEND_MESSAGE_LENGTH - 64 * 1024;
/** The largest string or bytes field of a request: the largest value a derived serializer rule allows (a bytes column, 1 MiB). */
export const DEFAULT_MAX_REQUEST_FIELD_BYTES = 1024 * 1024;
export const DEFAULT_LIST_BATCH_SIZE = 500;
/** The largest List page (`maxPageSize`). */
export const DEFAULT_MAX_PAGE_SIZE = 1000;
/** A paged List's page when the request sends no `page_size` (`defaultPageSize`). */
export const DEFAULT_PAGE_SIZE = 50;
/** The most messages one BulkCreate stream may send (`maxBulkItems`). */
export const DEFAULT_MAX_BULK_ITEMS = 10_000;
/** The most bytes of messages one BulkCreate stream may send (`maxBulkBytes`), all held until they are written. */
export const DEFAULT_MAX_BULK_BYTES = 16 * 1024 * 1024;
export const DEFAULT_SHUTDOWN_GRACE_MS = 5000;
export const DEFAULT_CALL_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_SERVER_STREAMS = 1000;
export const DEFAULT_MAX_SERVER_STREAMS_PER_CONNECTION = 100;
export const DEFAULT_STREAM_MEMORY_BYTES = 32 * 1024 * 1024;
/** A gRPC connection with no call for this long is closed (GOAWAY); clients reconnect when they next call. */
export const DEFAULT_IDLE_CONNECTION_TIMEOUT_MS = 5 * 60_000;
/** The gRPC server pings a connection quiet for this long, and closes it when the ping is not answered within 20 s. */
export const DEFAULT_KEEPALIVE_TIME_MS = 2 * 60_000;
export const DEFAULT_KEEPALIVE_TIMEOUT_MS = 20_000;
/** gRPC address: a new connection speaks HTTP/2 within 10 s; 1,000 connections at once. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_CONNECTIONS = 1000;
/** Web address: headers (and a connection's first bytes) within 10 s, a whole request within 30 s, 60 s of silence closes a connection, 1,000 connections at once. */
export const DEFAULT_WEB_HEADERS_TIMEOUT_MS = 10_000;
export const DEFAULT_WEB_REQUEST_TIMEOUT_MS = 30_000;
export const DEFAULT_WEB_IDLE_TIMEOUT_MS = 60_000;
export const DEFAULT_WEB_MAX_CONNECTIONS = 1000;

/** The message sent for failures the client cannot act on; details stay in the server log. */
export const INTERNAL_ERROR_MESSAGE = 'Internal server error';
/** How long an idempotent write's response is kept for retries with its request_id. */
export const DEFAULT_REQUEST_ID_RETENTION_MS = 24 * 60 * 60_000;
