import type { EntityManager, FilterQuery, QueryOrderMap } from '@mikro-orm/core';
import type { ColumnReader } from '../orm/column-reader';
import type { StreamMemory } from '../server/stream-memory';
import type { Queryset } from './generic-service';

type Direction = 'asc' | 'desc';

/** The bytes of rows one List batch aims at; rows are read fewer at a time when they are large. */
export const LIST_BATCH_BYTES = 1024 * 1024;

export interface BatchReading {
  /** The most rows one query reads (`listBatchSize`). */
  maxRows: number;
  /** The largest a row can be, in bytes, as far as the serializer's limits tell, before any row was read. */
  rowBytesEstimate: number;
  /** Stops the reading as soon as it aborts. */
  signal: AbortSignal;
  /** Reads rows as plain column data instead of entities (it must read the order columns). */
  reader?: ColumnReader;
  /** The server's budget for rows that streams hold: reserved before each query, let go once the batch is sent. */
  memory?: StreamMemory;
}

/**
 * Reads a queryset in batches, in order, stopping as soon as `signal` aborts. Each batch is a
 * separate query: with keyset pagination (`WHERE (order columns) > last row`) when the order
 * columns are non-null scalars, else with offsets. The caller may `em.clear()` between
 * batches, so memory stays bounded by one batch however large the table.
 *
 * A batch is bounded in bytes as well as rows: the first reads as many rows as fit in
 * `LIST_BATCH_BYTES` at their largest possible size, the next as many as fit at the size the
 * rows so far had. With `memory`, each batch first waits for room in the server's budget.
 */
export async function* querysetBatches<T extends object>(
  em: EntityManager,
  queryset: Queryset<T>,
  reading: BatchReading,
): AsyncGenerator<T[]> {
  const { signal, reader, memory } = reading;
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
  let rowBytes = Math.max(reading.rowBytesEstimate, 1);
  let limit = rowsFitting(rowBytes, reading.maxRows);
  while (!signal.aborted) {
    const reservation = await memory?.reserve(limit * rowBytes, signal);
    try {
      const where =
        keyset && last ? ({ $and: [queryset.where, after(order as [string, Direction][], last)] } as FilterQuery<T>) : queryset.where;
      const pageOffset = keyset ? undefined : offset;
      const rows = reader
        ? ((await reader.findPage(em, where as FilterQuery<object>, orderBy as QueryOrderMap<object>, limit, pageOffset)) as T[])
        : await em.find(queryset.entity, where, { orderBy, limit, offset: pageOffset, populate });
      const bytes = bytesOf(rows);
      reservation?.resize(bytes);
      if (rows.length) {
        last = rows[rows.length - 1];
        yield rows;
      }
      if (rows.length < limit) return;
      offset += rows.length;
      rowBytes = Math.max(bytes / rows.length, 1);
      limit = rowsFitting(rowBytes, reading.maxRows);
    } finally {
      reservation?.release();
    }
  }
}

function rowsFitting(rowBytes: number, maxRows: number): number {
  return Math.min(maxRows, Math.max(1, Math.floor(LIST_BATCH_BYTES / rowBytes)));
}

/** About how many bytes rows hold: their strings and buffers, and a word per other value. */
function bytesOf(rows: readonly object[]): number {
  let bytes = 0;
  for (const row of rows) {
    for (const value of Object.values(row)) {
      if (typeof value === 'string') bytes += value.length;
      else if (value instanceof Uint8Array) bytes += value.byteLength;
      else bytes += 8;
    }
  }
  return bytes;
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
