import type { MikroORM } from '@mikro-orm/core';
import * as protobuf from 'protobufjs';
import { pageResponseShape } from '../querying/page-response';
import type { ServiceDefinition } from '../proto/proto-registry';
import { isDefault } from '../serializers/default-hooks';
import type { GenericServiceBase } from '../services/generic-service';
import { listQueryingOrProblems } from '../querying/list-querying-of';
import { totalOrder } from '../services/queryset-batches';

/** The List request fields the framework reads, and the proto types each may have. */
const REQUEST_FIELDS: Readonly<Record<string, readonly string[]>> = {
  filter: ['string'],
  order_by: ['string'],
  page_size: ['int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64'],
  page_token: ['string'],
};

const LIST_RPCS = ['List', 'ListPage'];

/**
 * Start-up checks of a model service's List querying: the request fields it reads have the
 * right types, the allowlists name fields that can be filtered and ordered, an allowlist has a
 * request field to read it from, paging has an order it can continue, and a `ListPage`
 * response has the parts of a page.
 */
export function checkListQuerying(instance: GenericServiceBase, orm: MikroORM, definition: ServiceDefinition, problems: string[]): void {
  const className = instance.constructor.name;
  const where = (rpc: string) => `${className} (${definition.name}.${rpc}${definition.file ? `, ${definition.file}` : ''})`;
  const rpcs = definition.rpcs.filter(
    (rpc) => LIST_RPCS.includes(rpc.name) && typeof (instance as unknown as Record<string, unknown>)[rpc.name] === 'function',
  );
  const declared = new Set<string>();
  for (const rpc of rpcs) {
    const request = rpc.request.type;
    for (const [name, types] of Object.entries(REQUEST_FIELDS)) {
      const field = request.fields[name];
      if (!field) continue;
      declared.add(name);
      if (field.repeated || !types.includes(field.type)) {
        problems.push(
          `${where(rpc.name)}: ${request.fullName.slice(1)}.${name} must be \`${types[0]} ${name}\` to be read as List's ${name}.`,
        );
      }
    }
    if (rpc.name === 'ListPage') checkPageResponse(rpc.response.type, definition, where(rpc.name), problems);
  }
  const result = listQueryingOrProblems(instance, orm.em);
  if (Array.isArray(result)) for (const problem of result) problems.push(`${className} (${definition.name}): ${problem}`);
  const listRequests = rpcs.map((rpc) => rpc.request.type.fullName.slice(1)).join(' or ') || 'the List request';
  if (instance.filterFields && !declared.has('filter')) {
    problems.push(
      `${className} (${definition.name}): filterFields is set but ${listRequests} has no \`string filter\` field to read a filter from; add one.`,
    );
  }
  if (instance.orderingFields && !declared.has('order_by')) {
    problems.push(
      `${className} (${definition.name}): orderingFields is set but ${listRequests} has no \`string order_by\` field; add one.`,
    );
  }
  const pages = declared.has('page_size') || declared.has('page_token') || rpcs.some((rpc) => rpc.name === 'ListPage');
  if (pages && isDefault(instance, 'getQueryset')) {
    const meta = orm.getMetadata().get(instance.entity.name);
    const { order, keyset } = totalOrder(meta, instance.classQueryset().orderBy as Record<string, unknown>);
    if (!keyset) {
      problems.push(
        `${className} (${definition.name}): List is paged but its order (${order.map(([field]) => field).join(', ')}) cannot be continued from a row: ` +
          'order by NOT NULL columns, asc or desc.',
      );
    }
  }
}

function checkPageResponse(type: protobuf.Type, definition: ServiceDefinition, where: string, problems: string[]): void {
  const shape = pageResponseShape(type);
  if (typeof shape === 'string') {
    problems.push(`${where}: ${shape}`);
    return;
  }
  const model = definition.rpcs.find((rpc) => rpc.name === 'Retrieve' || rpc.name === 'Create')?.response.type;
  const results = type.fields[shape.results].resolvedType as protobuf.Type;
  if (model && results !== model) {
    problems.push(
      `${where}: ${type.fullName.slice(1)}.${shape.results} holds ${results.fullName.slice(1)}, but the service's objects are ${model.fullName.slice(1)}.`,
    );
  }
}
