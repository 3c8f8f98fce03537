// Public API. Symbols below the second heading are for extension authors.

// ---- For users ----
export { GrpcFrameworkModule } from './module/grpc-framework.module';
export { GRPC_FRAMEWORK_OPTIONS } from './module/grpc-framework.module-definition';
export type {
  GrpcFrameworkOptions,
  GrpcFrameworkOptionsFactory,
  GrpcLoaderOptions,
  GrpcWebOptions,
  MetricsOptions,
  RequestLogOptions,
  TlsOptions,
  TracingOptions,
} from './interfaces/grpc-framework-options.interface';
export type { RequestLogLine } from './transport/request-log';
export type { WebCorsOptions, WebRequest, WebResponse, WebTlsOptions } from './interfaces/grpc-web-options.interface';
export type { GrpcModelServiceOptions, HttpRoute } from './interfaces/grpc-model-service-options.interface';
export { GrpcModelService } from './decorators/grpc-model-service.decorator';
export { GrpcRequestRecord } from './idempotency/request-record.entity';
export { GrpcAction } from './decorators/grpc-action.decorator';
export type { ActionFields, ActionMessage, GrpcActionOptions } from './decorators/grpc-action.decorator';
export { ProtoField } from './decorators/proto-field.decorator';
export { ComputedField } from './decorators/computed-field.decorator';
export type { ComputedFieldOptions } from './decorators/computed-field.decorator';

export { Service } from './services/service';
export { GenericService, GenericServiceBase } from './services/generic-service';
export type { Queryset, GenericServiceOptions } from './services/generic-service';
export type { ListBatches } from './services/list-batches';
export type { FilterFields, ListQuery, ListNarrowing } from './querying/list-querying';
export { AipFilterBackend, KeysetPagination } from './querying/list-backends';
export type { FilterBackend, ListCall, PageRequest, PaginationBackend } from './querying/list-backends';
export type { Comparator } from './querying/filter-syntax';
export {
  CreateService,
  ListService,
  RetrieveService,
  UpdateService,
  DestroyService,
  ReadOnlyModelService,
  ModelService,
} from './mixins/concrete-services';

export { ListModelMixin, NEXT_PAGE_TOKEN_KEY } from './mixins/list-model.mixin';
export type { ListModelActions } from './mixins/list-model.mixin';
export { PagedListModelMixin } from './mixins/paged-list-model.mixin';
export type { PagedListModelActions } from './mixins/paged-list-model.mixin';
export { CreateModelMixin } from './mixins/create-model.mixin';
export type { CreateModelActions } from './mixins/create-model.mixin';
export { RetrieveModelMixin } from './mixins/retrieve-model.mixin';
export type { RetrieveModelActions } from './mixins/retrieve-model.mixin';
export { UpdateModelMixin } from './mixins/update-model.mixin';
export type { UpdateModelActions } from './mixins/update-model.mixin';
export { DestroyModelMixin } from './mixins/destroy-model.mixin';
export { BulkCreateModelMixin } from './mixins/bulk-create-model.mixin';
export type { BulkCreateModelActions } from './mixins/bulk-create-model.mixin';
export type { DestroyModelActions } from './mixins/destroy-model.mixin';

export { ProtoSerializer } from './serializers/proto-serializer';
export type {
  ProtoMessage,
  SerializerData,
  SerializerContext,
  SerializerOptions,
  IsValidOptions,
  ProtoSerializerClass,
} from './serializers/proto-serializer';
export { ModelProtoSerializer, ModelProtoSerializerBase } from './serializers/model-proto-serializer';
export type { ModelProtoSerializerOptions, EntityClass } from './serializers/model-proto-serializer';
export type { FieldOptions, FieldKind } from './serializers/field-spec';
export { Int64Type } from './orm/int64.type';

export { CallContext } from './call/call-context';
export type { CallPort, PeerAuth } from './call/call-port';
export type { ResponseRoom } from './call/response-room';
export { RequestStream } from './call/request-stream';
export { AuthenticationFailedError } from './auth/authenticator';
export type { Authenticator } from './auth/authenticator';
export { JwtAuthenticator } from './auth/jwt-authenticator';
export type { JwtAuthenticatorOptions } from './auth/jwt-authenticator';
export { MtlsAuthenticator } from './auth/mtls-authenticator';
export { PassportAuthenticator } from './auth/passport-authenticator';
export type { PassportAuthenticatorOptions, PassportRequest, PassportStrategyLike } from './auth/passport-authenticator';
export type { MtlsAuthenticatorOptions } from './auth/mtls-authenticator';
export { AllowAny, BasePermission, IsAuthenticated, IsAuthenticatedOrReadOnly, READ_ACTIONS } from './auth/permissions';
export type { Permission, PermissionLike, ServicePermissions } from './auth/permissions';
export { GrpcFrameworkServer } from './module/grpc-framework.server';
export { createGrpcClient } from './client/create-grpc-client';
export type { GrpcClientOf, GrpcClientOptions } from './client/create-grpc-client';
export type { ClientRpc, PromiseClient } from './client/promise-client';
export { STREAM_STATE_CHANNEL } from './transport/diagnostics';
export type { StreamStateMessage } from './transport/diagnostics';

export { GrpcError, ValidationFailedError, ObjectNotFoundError } from './errors/grpc-error';
export type { FieldViolation } from './errors/grpc-error';
export { ImproperlyConfiguredError } from './errors/improperly-configured.error';
export { STATUS_DETAILS_KEY } from './errors/status-details';

// ---- For extension authors ----
export { toGrpcStatus } from './errors/to-grpc-status';
export type { MappedStatus } from './errors/to-grpc-status';
export { ProtoRegistry } from './proto/proto-registry';
export type { MessageCodec } from './proto/message-codec';
export type { FieldSpec } from './serializers/field-spec';
export type { SerializerSpec } from './serializers/serializer-spec';
export type { Constructor, GenericServiceConstructor } from './mixins/constructor.type';
