import type { FieldModel, MessageModel, ProtoFileModel, RpcModel, ServiceModel, TypeModel } from './proto-model';
import { numbered } from './proto-model';

/** The rpcs the mixins serve, in the order a service declares them. */
export const STANDARD_RPCS = ['List', 'ListPage', 'Create', 'Retrieve', 'Update', 'PartialUpdate', 'Destroy', 'BulkCreate'] as const;
export type StandardRpc = (typeof STANDARD_RPCS)[number];

/** What a model service's messages are made of. */
export interface ModelServiceShape {
  /** The model message's name, e.g. `Post`. */
  model: string;
  /** The model message's fields, numbered. */
  fields: readonly FieldModel[];
  /** The fields of a separate `<Model>Write` message that Create and Update receive, when there is one. */
  writeFields?: readonly FieldModel[];
  /** The lookup key, as `<Model>RetrieveRequest` carries it. */
  key: FieldModel;
  /** Messages and enums the fields use: enums, null-pattern messages, nested messages. */
  types: readonly TypeModel[];
}

/** Which rpcs and List request fields a model service gets. */
export interface ModelRpcOptions {
  serviceName: string;
  rpcs: readonly StandardRpc[];
  /** The List request's AIP-160 `filter`, AIP-132 `order_by` and AIP-158 `page_size` and `page_token`. */
  listFields: { filter: boolean; orderBy: boolean; page: boolean };
  /** The repeated field of `<Model>ListPage` and `<Model>List`: `results`, or the plural (AIP-132's `books`). */
  listField: string;
  /** `<Model>ListPage` has `total_size` (the service counts). */
  totalSize: boolean;
  /**
   * Writes take a `request_id` (AIP-155: a retry is answered, not written again): in the write
   * message, or the model message in the seed's one-message shape; Destroy then takes
   * `<Model>DestroyRequest` (the key and the id) beside a write message. @default false
   */
  requestIds?: boolean;
}

/** The AIP-155 field of a write's request. */
const REQUEST_ID_FIELD: Omit<FieldModel, 'number'> = {
  name: 'request_id',
  type: 'string',
  label: '',
  comment: 'AIP-155: a UUID the client chooses and sends again on every retry; a retry of a write already done gets its first response.',
};

/** The options the per-entity and per-serializer commands have always used: the seed's five rpcs (ListPage with `paged`). */
export function seedRpcOptions(serviceName: string, paged: boolean): ModelRpcOptions {
  return {
    serviceName,
    rpcs: paged ? ['List', 'ListPage', 'Create', 'Retrieve', 'Update', 'Destroy'] : ['List', 'Create', 'Retrieve', 'Update', 'Destroy'],
    listFields: { filter: paged, orderBy: paged, page: paged },
    listField: 'results',
    totalSize: paged,
  };
}

const LIST_FIELDS = {
  filter: { name: 'filter', type: 'string', comment: 'AIP-160 filter over the service\'s filterFields, e.g. `title:"news" AND id > 10`.' },
  orderBy: { name: 'order_by', type: 'string', comment: 'AIP-132 order over its orderingFields, e.g. `created desc, title`.' },
  pageSize: {
    name: 'page_size',
    type: 'int32',
    comment: 'The most messages to send; 0 sends every one (List) or defaultPageSize (ListPage).',
  },
  pageToken: {
    name: 'page_token',
    type: 'string',
    comment: 'The next_page_token of the page before (for List: its `next-page-token` trailer).',
  },
} as const;

/** A model service's rpcs and messages, in django-grpc-framework's shape (Destroy takes the model, or with a write message the retrieve request). */
export function modelServiceParts(shape: ModelServiceShape, options: ModelRpcOptions): { service: ServiceModel; types: TypeModel[] } {
  const { model } = shape;
  const write = shape.writeFields ? `${model}Write` : model;
  const requestId = options.requestIds ? [REQUEST_ID_FIELD] : [];
  const destroyRequest = !shape.writeFields ? model : options.requestIds ? `${model}DestroyRequest` : `${model}RetrieveRequest`;
  const has = new Set<string>(options.rpcs);
  const rpc = (
    name: StandardRpc,
    request: string,
    response: string,
    streams: Partial<Pick<RpcModel, 'requestStream' | 'responseStream'>> = {},
  ): RpcModel => ({
    name,
    request,
    response,
    requestStream: streams.requestStream ?? false,
    responseStream: streams.responseStream ?? false,
  });
  const rpcs: Record<StandardRpc, () => RpcModel> = {
    List: () => rpc('List', `${model}ListRequest`, model, { responseStream: true }),
    ListPage: () => rpc('ListPage', `${model}ListRequest`, `${model}ListPage`),
    Create: () => rpc('Create', write, model),
    Retrieve: () => rpc('Retrieve', `${model}RetrieveRequest`, model),
    Update: () => rpc('Update', write, model),
    PartialUpdate: () => rpc('PartialUpdate', write, model),
    Destroy: () => rpc('Destroy', destroyRequest, 'google.protobuf.Empty'),
    BulkCreate: () => rpc('BulkCreate', write, `${model}List`, { requestStream: true }),
  };
  const service: ServiceModel = {
    name: options.serviceName,
    rpcs: STANDARD_RPCS.filter((name) => has.has(name)).map((name) => rpcs[name]()),
  };

  const message = (name: string, fields: readonly Omit<FieldModel, 'number'>[]): MessageModel => ({
    kind: 'message',
    name,
    fields: numbered(fields),
  });
  const listed = (name: string, extra: Omit<FieldModel, 'number'>[] = []) =>
    message(name, [{ name: options.listField, type: model, label: 'repeated' }, ...extra]);
  const { filter, orderBy, page } = options.listFields;
  const listRequest = [
    ...(filter ? [LIST_FIELDS.filter] : []),
    ...(orderBy ? [LIST_FIELDS.orderBy] : []),
    ...(page ? [LIST_FIELDS.pageSize, LIST_FIELDS.pageToken] : []),
  ].map((field) => ({ ...field, label: '' as const }));
  const types: TypeModel[] = [message(model, shape.writeFields ? shape.fields : [...shape.fields, ...requestId])];
  const writes = ['Create', 'Update', 'PartialUpdate', 'BulkCreate'].some((name) => has.has(name));
  if (shape.writeFields && writes) types.push(message(write, [...shape.writeFields, ...requestId]));
  if (has.has('List') || has.has('ListPage')) types.push(message(`${model}ListRequest`, listRequest));
  if (has.has('ListPage')) {
    types.push(
      listed(`${model}ListPage`, [
        { name: 'next_page_token', type: 'string', label: '' },
        ...(options.totalSize ? [{ name: 'total_size', type: 'int32', label: '' as const }] : []),
      ]),
    );
  }
  const key = { ...shape.key, label: '' as const, comment: undefined };
  if (has.has('Retrieve') || (has.has('Destroy') && destroyRequest === `${model}RetrieveRequest`)) {
    types.push(message(`${model}RetrieveRequest`, [key]));
  }
  if (has.has('Destroy') && destroyRequest === `${model}DestroyRequest`) types.push(message(destroyRequest, [key, ...requestId]));
  if (has.has('BulkCreate')) types.push(listed(`${model}List`));
  return { service, types: [...types, ...shape.types] };
}

/** The file of one model service: what the per-entity and per-serializer commands write. */
export function modelServiceFile(shape: ModelServiceShape, options: ModelRpcOptions, packageName: string): ProtoFileModel {
  const { service, types } = modelServiceParts(shape, options);
  return { path: '', package: packageName, services: [service], types };
}
