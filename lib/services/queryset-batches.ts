import type { EntityManager, EntityMetadata, FilterQuery, QueryOrderMap } from '@mikro-orm/core';
import { ValidationFailedError } from '../errors/grpc-error';
import type { ColumnReader } from '../orm/column-reader';
import type { ResponseRoom } from '../call/response-room';
import type { Reservation, StreamMemory } from '../call/stream-memory';
import type { Queryset } from './generic-service';

type Direction = 'asc' | 'desc';

/** The bytes of rows one List batch aims at; rows are read fewer at a time when they are large. */
export const LIST_BATCH_BYTES = 1024 * 1024;

export interface BatchReading {
  /** The most rows one query reads (`listBatchSize`). */
  maxRows: number;
  /** How large rows are, as far as known; updated with what each batch measures. */
  rowSize: RowSize;
  /** Stops the reading as soon as it aborts. */
  signal: AbortSignal;
  /** Reads rows as plain column data instead of entities (it must read the order columns). */
  reader?: ColumnReader;
  /** The server's budget for rows that streams hold: reserved before each query, let go once the batch is sent. */
  memory?: StreamMemory;
  /**
   * The response stream's room: each query waits until the stream takes a row more and reads
   * no more than it takes, so a stream whose client does not read holds no rows.
   */
  room?: ResponseRoom;
  /** Reads one page instead of every row. */
  page?: PageWindow;
  /**
   * A condition ANDed with the queryset's (a List's filter), made anew for each query: MikroORM
   * consumes a raw SQL fragment in the query that runs it.
   */
  narrowing?: () => object;
  /**
   * What the query depends on besides the queryset of the class (the List's filter and order):
   * read as columns in keyset order, its pages are compiled once per shape.
   */
  shape?: string;
}

/**
 * How large the rows of one serializer are, in bytes, as far as known: its worst case (what
 * its fields' limits allow) until rows have been read, then what the last batch measured.
 * Shared by the calls of one serializer, so a call's first query reads as many rows as earlier
 * calls found fit, rather than a few rows at their worst case and then the rest (a page of 50
 * is one query).
 */
export class RowSize {
  constructor(public bytes: number) {}
}

const rowSizes = new WeakMap<object, RowSize>();

/** The row size of `owner` (a serializer class), starting at `worstCase`. */
export function rowSizeOf(owner: object, worstCase: number): RowSize {
  let size = rowSizes.get(owner);
  if (!size) rowSizes.set(owner, (size = new RowSize(Math.max(worstCase, 1))));
  return size;
}

/** A page of a queryset: where it starts and how many rows it has. */
export interface PageWindow {
  /** Starts after the row with these values of the order keys (the primary key included, last). */
  after?: readonly unknown[];
  /** The most rows the page reads. @default every row left */
  size?: number;
}

/** Paging that cannot be done because the order is not one pages can continue from. */
export class OrderNotPageableError extends Error {}

/**
 * Reads a queryset in batches, in order, stopping as soon as `signal` aborts. Each batch is a
 * separate query: with keyset pagination (`WHERE (order columns) > last row`) when the order
 * columns are non-null scalars, else with offsets. The caller may `em.clear()` between
 * batches, so memory stays bounded by one batch however large the table.
 *
 * A batch is bounded in bytes as well as rows: it reads as many rows as fit in
 * `LIST_BATCH_BYTES` at `rowSize` (their largest possible size until rows have been read, then
 * the size the last batch had). With `memory`, each batch first waits for room in the server's budget.
 *
 * With `page`, it reads one page: from after `page.after` (a keyset position: costs the same
 * however deep), at most `page.size` rows, and returns where the next page starts (the last
 * row's values of the order keys) when rows remain. Paging needs an order every key of which is a NOT NULL column (`OrderNotPageableError` otherwise).
 */
export async function* querysetBatches<T extends object>(
  em: EntityManager,
  queryset: Queryset<T>,
  reading: BatchReading,
): AsyncGenerator<T[], unknown[] | undefined> {
  const { signal, reader, memory, page } = reading;
  const meta = em.getMetadata().get(queryset.entity.name);
  const { order, keyset } = totalOrder(meta, queryset.orderBy as Record<string, unknown>);
  if (page && (page.after || page.size !== undefined) && !keyset) {
    throw new OrderNotPageableError(
      `${meta.className}: the List order (${order.map(([field]) => field).join(', ')}) cannot be paged: every order key must be a NOT NULL column with asc or desc.`,
    );
  }
  if (page?.after && page.after.length !== order.length) {
    // Only a token of this server for this query gets here: the service's own order has changed since.
    throw new ValidationFailedError([
      { field: 'page_token', description: 'page_token was issued for another order of this List; start again without one.' },
    ]);
  }
  const orderBy = Object.fromEntries(order.map(([field, direction]) => [field, direction ?? 'asc'])) as QueryOrderMap<T>;
  const populate = (queryset.populate ?? []) as never;
  let offset = 0;
  let last: object | undefined = page?.after ? Object.fromEntries(order.map(([field], i) => [field, page.after![i]])) : undefined;
  let left = page?.size ?? Infinity;
  const { rowSize, room } = reading;
  // What the last batch sent past the stream's room: it stays reserved until the client takes it.
  let pastRoom: Reservation | undefined;
  try {
    while (!signal.aborted && left > 0) {
      if (room) {
        await room.wait(rowSize.bytes);
        pastRoom?.release();
        pastRoom = undefined;
        if (signal.aborted) break;
      }
      const batchBytes = room ? Math.min(room.bytes, LIST_BATCH_BYTES) : LIST_BATCH_BYTES;
      const limit = rowsFitting(batchBytes, rowSize.bytes, reading.maxRows);
      // The page's last query reads one row more than it sends: whether that row exists says if a next page does.
      const lastQuery = limit >= left;
      const count = lastQuery ? left + 1 : limit;
      let reservation = await memory?.reserve(count * rowSize.bytes, signal);
      try {
        const compiled =
          reader && keyset && reading.shape !== undefined
            ? reader.compiledPage(
                em,
                reading.shape,
                () => whereOf([queryset.where, reading.narrowing?.()]),
                order as [string, Direction][],
                count,
                !!last,
              )
            : undefined;
        let rows: T[];
        if (compiled) rows = (await reader!.readPage(em, compiled, last as Record<string, unknown> | undefined)) as T[];
        else {
          const where = whereOf([
            queryset.where,
            reading.narrowing?.(),
            keyset && last ? after(order as [string, Direction][], last) : undefined,
          ]) as FilterQuery<T>;
          const pageOffset = keyset ? undefined : offset;
          rows = reader
            ? ((await reader.findPage(em, where as FilterQuery<object>, orderBy as QueryOrderMap<object>, count, pageOffset)) as T[])
            : await em.find(queryset.entity, where, { orderBy, limit: count, offset: pageOffset, populate });
        }
        const more = lastQuery && rows.length > left;
        if (more) rows.length = left;
        const bytes = bytesOf(rows);
        reservation?.resize(bytes);
        const read = rows.length;
        if (read) {
          rowSize.bytes = Math.max(bytes / read, 1);
          // Only the order keys of the last row: the row itself (its large text) must not outlive the batch.
          last = keysOf(order, rows[read - 1]);
          left -= read;
          yield rows;
          // The batch has been sent: emptied, it keeps no rows for whoever still refers to it (a
          // consumer's loop variable) while the next one waits.
          rows.length = 0;
          if (room && reservation && bytes > batchBytes) {
            reservation.resize(bytes - batchBytes);
            pastRoom = reservation;
            reservation = undefined;
          }
        }
        if (read < limit || lastQuery) return more ? order.map(([field]) => (last as Record<string, unknown>)[field]) : undefined;
        offset += read;
      } finally {
        reservation?.release();
      }
    }
  } finally {
    pastRoom?.release();
  }
}

/**
 * An order with the primary key appended (so it is total), and whether pages can continue
 * from a row's values in it (keyset): every key a NOT NULL scalar column, in asc or desc.
 */
export function totalOrder(
  meta: EntityMetadata,
  orderBy: Record<string, unknown>,
): { order: [string, Direction | undefined][]; keyset: boolean } {
  const pk = meta.primaryKeys[0];
  const order = normalizeOrder(orderBy);
  if (!order.some(([field]) => field === pk)) order.push([pk, 'asc']);
  const keyset =
    order.every(([, direction]) => direction !== undefined) &&
    order.every(([field]) => {
      const prop = meta.properties[field as keyof typeof meta.properties];
      return prop && prop.kind === 'scalar' && !prop.nullable;
    });
  return { order, keyset };
}

/** The conditions given, ANDed. */
function whereOf(conditions: readonly (object | undefined)[]): object {
  const present = conditions.filter((condition) => condition !== undefined);
  return present.length === 1 ? present[0] : { $and: present };
}

/** How many rows of `rowBytes` a batch of `batchBytes` reads: at least one, at most `maxRows`. */
function rowsFitting(batchBytes: number, rowBytes: number, maxRows: number): number {
  return Math.min(maxRows, Math.max(1, Math.floor(batchBytes / rowBytes)));
}

/** About how many bytes rows hold: their strings and buffers, and a word per other value (nested objects read as columns counted in full). */
function bytesOf(rows: readonly object[]): number {
  let bytes = 0;
  for (const row of rows) {
    for (const value of Object.values(row)) {
      if (typeof value === 'string') bytes += value.length;
      else if (value instanceof Uint8Array) bytes += value.byteLength;
      else if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) bytes += bytesOf([value]);
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

/**
 * `(f1, f2, ...) > (v1, v2, ...)` in each column's direction, as an `$or` of prefixes, ANDed
 * with `f1 >= v1` (`<=` descending): the same rows, but a condition on the first key alone lets
 * the database seek its index to the page (with the values as parameters, SQLite and a generic
 * PostgreSQL plan read an `$or` alone by scanning from the first row, so deep pages got slower).
 */
/** A row's values of the order keys. */
function keysOf(order: readonly (readonly [string, unknown])[], row: object): object {
  const values: Record<string, unknown> = {};
  for (const [field] of order) values[field] = (row as Record<string, unknown>)[field];
  return values;
}

function after(order: [string, Direction][], last: object): object {
  const row = last as Record<string, unknown>;
  const branches = order.map(([field, direction], i) => {
    const branch: Record<string, unknown> = {};
    for (const [prefix] of order.slice(0, i)) branch[prefix] = row[prefix];
    branch[field] = { [direction === 'asc' ? '$gt' : '$lt']: row[field] };
    return branch;
  });
  if (branches.length === 1) return branches[0];
  const [first, direction] = order[0];
  return { $and: [{ [first]: { [direction === 'asc' ? '$gte' : '$lte']: row[first] } }, { $or: branches }] };
}
