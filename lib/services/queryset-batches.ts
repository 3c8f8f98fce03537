import type { EntityManager, FilterQuery, QueryOrderMap } from '@mikro-orm/core';
import type { ColumnReader } from '../orm/column-reader';
import type { Queryset } from './generic-service';

type Direction = 'asc' | 'desc';

/**
 * Reads a queryset in batches, in order, stopping as soon as `signal` aborts. Each batch is a
 * separate query: with keyset pagination (`WHERE (order columns) > last row`) when the order
 * columns are non-null scalars, else with offsets. The caller may `em.clear()` between
 * batches, so memory stays bounded by one batch however large the table.
 *
 * With a `reader`, rows come as plain column data (it must read the order columns) instead of entities.
 */
export async function* querysetBatches<T extends object>(
  em: EntityManager,
  queryset: Queryset<T>,
  batchSize: number,
  signal: AbortSignal,
  reader?: ColumnReader,
): AsyncGenerator<T[]> {
  const meta = em.getMetadata().get(queryset.entity.name);
  const pk = meta.primaryKeys[0];
  const order = normalizeOrder(queryset.orderBy as Record<string, unknown>);
  if (!order.some(([field]) => field === pk)) order.push([pk, 'asc']);
  const keyset =
    order.every(([, direction]) => direction !== undefined) &&
    order.every(([field]) => {
      const prop = meta.properties[field as keyof typeof meta.properties];
      return prop && prop.kind === 'scalar' && !prop.nullable;
    });
  const orderBy = Object.fromEntries(order.map(([field, direction]) => [field, direction ?? 'asc'])) as QueryOrderMap<T>;
  const populate = (queryset.populate ?? []) as never;
  let offset = 0;
  let last: T | undefined;
  while (!signal.aborted) {
    const where =
      keyset && last ? ({ $and: [queryset.where, after(order as [string, Direction][], last)] } as FilterQuery<T>) : queryset.where;
    const pageOffset = keyset ? undefined : offset;
    const rows = reader
      ? ((await reader.findPage(em, where as FilterQuery<object>, orderBy as QueryOrderMap<object>, batchSize, pageOffset)) as T[])
      : await em.find(queryset.entity, where, { orderBy, limit: batchSize, offset: pageOffset, populate });
    if (rows.length) {
      last = rows[rows.length - 1];
      yield rows;
    }
    if (rows.length < batchSize) return;
    offset += rows.length;
  }
}

function normalizeOrder(orderBy: Record<string, unknown>): [string, Direction | undefined][] {
  return Object.entries(orderBy).map(([field, value]) => {
    const text = String(value).toLowerCase();
    if (text === 'asc' || text === '1') return [field, 'asc'];
    if (text === 'desc' || text === '-1') return [field, 'desc'];
    return [field, undefined];
  });
}

/** `(f1, f2, ...) > (v1, v2, ...)` in each column's direction, as an `$or` of prefixes. */
function after(order: [string, Direction][], last: object): object {
  const row = last as Record<string, unknown>;
  const branches = order.map(([field, direction], i) => {
    const branch: Record<string, unknown> = {};
    for (const [prefix] of order.slice(0, i)) branch[prefix] = row[prefix];
    branch[field] = { [direction === 'asc' ? '$gt' : '$lt']: row[field] };
    return branch;
  });
  return branches.length === 1 ? branches[0] : { $or: branches };
}
