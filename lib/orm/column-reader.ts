import { EntityManager, EntityMetadata, EntityProperty, EventType, FilterQuery, QueryOrderMap, ReferenceKind, Type } from '@mikro-orm/core';
import { compileLookupWithCondition, compilePage, compileSelect, mapRow, SqlEntityManagerLike } from './mikro-orm-internals';
import { Awaitable, PreparableQuery, Row, runQuery } from './row-queries';

/** Property name -> JavaScript value, as an entity would hold it (relations as their primary key). */
export type ColumnData = Record<string, unknown>;

const SENTINEL = '\u0000grpc-framework-lookup\u0000';

/** One select by a single property, compiled once. */
export interface CompiledLookup extends PreparableQuery {
  readonly bindings: readonly unknown[];
  /** Where in `bindings` the looked-up value goes. */
  readonly valueIndex: number;
  /** Converts the looked-up value as MikroORM would before querying. */
  readonly toDatabase: (value: unknown) => unknown;
}

/** One page query of a List, compiled once: the rows after a row, whose order keys' values are bound per page. */
export interface CompiledPage extends PreparableQuery {
  readonly bindings: readonly unknown[];
  /** The order keys (properties), primary key last. */
  readonly keys: readonly string[];
  /** For each binding that holds an order key's value: [binding index, key index]. */
  readonly keySlots: readonly (readonly [number, number])[];
  /** Converts each key's value as MikroORM would before querying. */
  readonly toDatabase: readonly ((value: unknown) => unknown)[];
}

/** The most page queries one reader keeps compiled: filters let clients choose their shape. */
const MAX_COMPILED_PAGES = 200;

/** A to-one relation whose related rows a reader reads as well: its key is replaced by the related row's data. */
export interface RelatedColumns {
  /** The relation property (its value is the related key). */
  readonly property: string;
  /** Reads the related rows (its properties start with the related primary key). */
  readonly reader: ColumnReader;
}

/** The most keys one query for related rows binds; key lists are padded to a power of two so few distinct statements are prepared. */
const MAX_KEYS_PER_QUERY = 512;

/**
 * Reads chosen properties of an entity straight from rows into plain data: no entity, no
 * identity map, no hydration. Values come out as a loaded entity would hold them (MikroORM's
 * result mapper, then each custom type's `convertToJSValue`); many-to-one relations come out
 * as the related primary key, or, for the `related` ones (nested objects), as the related
 * row's data, read with one query per page and relation (`WHERE key IN (...)`).
 *
 * Only for properties backed by one column each; `ColumnReader.create` returns undefined for
 * anything else (collections, formulas, embeddables, lazy or non-persisted properties) and for
 * entities whose loading has side effects or conditions (filters, `onLoad` hooks or
 * subscribers, inheritance).
 */
export class ColumnReader {
  private readonly conversions: readonly [string, Type<unknown>][];

  private readonly pages = new Map<string, CompiledPage | null>();

  private constructor(
    readonly meta: EntityMetadata,
    readonly properties: readonly string[],
    private readonly related: readonly RelatedColumns[],
  ) {
    this.conversions = properties.flatMap((name) => {
      const type = storedType(meta.properties[name as keyof typeof meta.properties] as EntityProperty);
      return type ? [[name, type] as [string, Type<unknown>]] : [];
    });
  }

  /** A reader of `properties`, or why they cannot be read as plain columns. */
  static create(
    em: EntityManager,
    meta: EntityMetadata,
    properties: readonly string[],
    related: readonly RelatedColumns[] = [],
  ): { reader: ColumnReader } | { reason: string } {
    const entityReason = ColumnReader.entityReason(em, meta);
    if (entityReason) return { reason: entityReason };
    const unique = [...new Set(properties)];
    const notPlain = unique.filter((name) => {
      const prop = meta.properties[name as keyof typeof meta.properties] as EntityProperty | undefined;
      return !prop || !isPlainColumn(prop);
    });
    if (notPlain.length)
      return {
        reason: `${notPlain.join(', ')} ${notPlain.length > 1 ? 'are' : 'is'} not a plain column (formula, lazy, embedded or not persisted)`,
      };
    const foreign = related.filter(
      ({ property }) => (meta.properties[property as keyof typeof meta.properties] as EntityProperty).kind === ReferenceKind.SCALAR,
    );
    if (foreign.length) return { reason: `${foreign.map((r) => r.property).join(', ')} is not a relation` };
    return { reader: new ColumnReader(meta, [...new Set([...unique, ...related.map((r) => r.property)])], related) };
  }

  /** Why no row of an entity can be read as plain columns, whichever columns: undefined when rows can. */
  static entityReason(em: EntityManager, meta: EntityMetadata): string | undefined {
    if (!isSqlEntityManager(em)) return 'the driver is not an SQL driver';
    if (meta.discriminatorColumn || meta.virtual || meta.expression) return `${meta.className} uses inheritance or is a virtual entity`;
    // `@OnLoad` hooks and subscribers expect entities to be loaded.
    if (em.getEventManager().hasListeners(EventType.onLoad, meta)) return `${meta.className} has onLoad hooks or subscribers`;
    if (Object.keys(meta.filters ?? {}).length || Object.keys(em.config.get('filters') ?? {}).length) {
      return `${meta.className} has MikroORM filters`;
    }
    return undefined;
  }

  /** Row -> data keyed by property. */
  toData(em: EntityManager, row: Row): ColumnData {
    const data = mapRow(em, this.meta.className, row) as ColumnData;
    const platform = em.getPlatform();
    for (const [name, type] of this.conversions) {
      const value = data[name];
      if (value !== null && value !== undefined) data[name] = type.convertToJSValue(value, platform);
    }
    return data;
  }

  /**
   * Compiles `select <properties> from <table> where <where> and <property> = ? limit 1` once; the
   * value is bound per call. Undefined when the property is not a plain column.
   */
  compileLookup(em: EntityManager, where: FilterQuery<object>, property: string): CompiledLookup | undefined {
    const prop = this.meta.properties[property as keyof typeof this.meta.properties] as EntityProperty | undefined;
    if (!prop || prop.kind !== ReferenceKind.SCALAR || !isPlainColumn(prop)) return undefined;
    const qb = (em as unknown as SqlEntityManagerLike).createQueryBuilder(this.meta.className);
    qb.select([...this.properties]).where(where);
    // The base filter goes through MikroORM; the looked-up column is added below it, so the
    // placeholder value survives as a binding whose position is known.
    const { sql, bindings, nativeSql, nativeBindings } = compileLookupWithCondition(qb, `${qb.alias}.${prop.fieldNames[0]}`, SENTINEL);
    const valueIndex = bindings.lastIndexOf(SENTINEL);
    if (valueIndex < 0 || nativeBindings.lastIndexOf(SENTINEL) !== valueIndex) return undefined;
    return { sql, nativeSql, bindings, valueIndex, toDatabase: toDatabaseOf(prop, em) };
  }

  /** Runs a compiled lookup; null when no row matches. At once when the query is answered at once (see `runQuery`). */
  findOne(em: EntityManager, lookup: CompiledLookup, value: unknown): Awaitable<ColumnData | null> {
    const params = lookup.bindings.slice();
    params[lookup.valueIndex] = lookup.toDatabase(value);
    const rows = runQuery(em, lookup, params);
    return rows instanceof Promise ? rows.then((found) => this.firstOf(em, found)) : this.firstOf(em, rows);
  }

  private firstOf(em: EntityManager, rows: Row[]): Awaitable<ColumnData | null> {
    if (!rows.length) return null;
    const data = this.toData(em, rows[0]);
    return this.related.length ? this.withRelated(em, [data]).then(([withRelated]) => withRelated) : data;
  }

  /**
   * The select of at most `limit` rows matching `where` in `order` (after a row, when `after`),
   * compiled once per `shape` (what `where` depends on besides the class: the List's filter and
   * order) and kept; undefined when a key is not a plain column.
   */
  compiledPage(
    em: EntityManager,
    shape: string,
    where: () => FilterQuery<object>,
    order: readonly [string, 'asc' | 'desc'][],
    limit: number,
    after: boolean,
  ): CompiledPage | undefined {
    const cacheKey = `${shape}\n${limit}\n${after}`;
    let page = this.pages.get(cacheKey);
    if (page === undefined) {
      page = this.compilePage(em, where(), order, limit, after) ?? null;
      if (this.pages.size < MAX_COMPILED_PAGES) this.pages.set(cacheKey, page);
    }
    return page ?? undefined;
  }

  private compilePage(
    em: EntityManager,
    where: FilterQuery<object>,
    order: readonly [string, 'asc' | 'desc'][],
    limit: number,
    after: boolean,
  ): CompiledPage | undefined {
    const props = order.map(([field]) => this.meta.properties[field as keyof typeof this.meta.properties] as EntityProperty | undefined);
    if (props.some((prop) => !prop || prop.kind !== ReferenceKind.SCALAR || !isPlainColumn(prop))) return undefined;
    const qb = (em as unknown as SqlEntityManagerLike).createQueryBuilder(this.meta.className);
    qb.select([...this.properties])
      .where(where)
      .orderBy(Object.fromEntries(order));
    const placeholders = order.map((_, i) => `${SENTINEL}${i}`);
    const keys = after
      ? order.map(([, direction], i) => ({ column: `${qb.alias}.${props[i]!.fieldNames[0]}`, direction, placeholder: placeholders[i] }))
      : [];
    const { sql, nativeSql, bindings, nativeBindings } = compilePage(qb, keys, limit);
    const keySlots: [number, number][] = [];
    for (const [at, value] of bindings.entries()) {
      const key = placeholders.indexOf(value as string);
      if (key < 0) continue;
      if (nativeBindings[at] !== value) return undefined;
      keySlots.push([at, key]);
    }
    if (after && keySlots.length < order.length) return undefined;
    return {
      sql,
      nativeSql,
      bindings,
      keys: order.map(([field]) => field),
      keySlots,
      toDatabase: props.map((prop) => toDatabaseOf(prop!, em)),
    };
  }

  /** Runs a compiled page query after the row `last` (its order keys' values; none for the first page). */
  async readPage(em: EntityManager, page: CompiledPage, last: Readonly<Record<string, unknown>> | undefined): Promise<ColumnData[]> {
    const rows = await runQuery(em, page, pageParams(page, last));
    return this.withRelated(
      em,
      rows.map((row) => this.toData(em, row)),
    );
  }

  /** One page of rows in order: a query built per page, so `where` may hold the last page's keys. */
  async findPage(
    em: EntityManager,
    where: FilterQuery<object>,
    orderBy: QueryOrderMap<object>,
    limit: number,
    offset: number | undefined,
  ): Promise<ColumnData[]> {
    const qb = (em as unknown as SqlEntityManagerLike).createQueryBuilder(this.meta.className);
    qb.select([...this.properties])
      .where(where)
      .orderBy(orderBy)
      .limit(limit);
    if (offset) qb.offset(offset);
    // Built per page (the keys of the last page are values in it), run as a prepared statement: pages of one query differ only in values.
    const compiled = compileSelect(qb);
    const rows = await runQuery(em, compiled, [...compiled.bindings]);
    return this.withRelated(
      em,
      rows.map((row) => this.toData(em, row)),
    );
  }

  /** The rows whose primary key is one of `keys` (at most `MAX_KEYS_PER_QUERY`), in no particular order. */
  private async findByKeys(em: EntityManager, keys: readonly unknown[]): Promise<ColumnData[]> {
    // Padded with the last key to a power of two: a few statements to prepare, not one per count.
    const padded = [...keys];
    const size = 2 ** Math.ceil(Math.log2(keys.length));
    while (padded.length < size) padded.push(keys[keys.length - 1]);
    const qb = (em as unknown as SqlEntityManagerLike).createQueryBuilder(this.meta.className);
    qb.select([...this.properties]).where({ [this.meta.primaryKeys[0]]: { $in: padded } });
    const compiled = compileSelect(qb);
    const rows = await runQuery(em, compiled, [...compiled.bindings]);
    return this.withRelated(
      em,
      rows.map((row) => this.toData(em, row)),
    );
  }

  /** `rows` with each related key replaced by the related row's data (null when there is none). */
  private async withRelated(em: EntityManager, rows: ColumnData[]): Promise<ColumnData[]> {
    for (const { property, reader } of this.related) {
      const keys = [...new Set(rows.map((row) => row[property]).filter((key) => key !== null && key !== undefined))];
      const byKey = new Map<unknown, ColumnData>();
      const primaryKey = reader.meta.primaryKeys[0];
      for (let i = 0; i < keys.length; i += MAX_KEYS_PER_QUERY) {
        for (const related of await reader.findByKeys(em, keys.slice(i, i + MAX_KEYS_PER_QUERY))) byKey.set(related[primaryKey], related);
      }
      for (const row of rows) {
        const key = row[property];
        row[property] = key === null || key === undefined ? null : (byKey.get(key) ?? null);
      }
    }
    return rows;
  }
}

/** A compiled page's parameters: its bindings, with the order keys' values of the row `last` (none for a first page) in place. */
export function pageParams(page: CompiledPage, last: Readonly<Record<string, unknown>> | undefined): unknown[] {
  const params = page.bindings.slice();
  for (const [at, key] of page.keySlots) params[at] = page.toDatabase[key](last![page.keys[key]]);
  return params;
}

/** A scalar property's value as MikroORM binds it in a query: through its custom type, if it has one. */
function toDatabaseOf(prop: EntityProperty, em: EntityManager): (value: unknown) => unknown {
  const type = prop.customType;
  if (!type) return (value) => value;
  const platform = em.getPlatform();
  return (value) => type.convertToDatabaseValue(value, platform, { key: prop.name, mode: 'query' });
}

function isSqlEntityManager(em: EntityManager): boolean {
  return typeof (em as unknown as Partial<SqlEntityManagerLike>).createQueryBuilder === 'function';
}

/** A property stored in exactly one column of the entity's own table (what an INSERT writes). */
export function isOwnColumn(prop: EntityProperty): boolean {
  if (prop.persist === false || prop.formula || prop.embedded || prop.object) return false;
  if (prop.fieldNames?.length !== 1) return false;
  if (prop.kind === ReferenceKind.SCALAR) return true;
  // The owning side of a to-one relation holds the foreign key; its value is the related key.
  return prop.kind === ReferenceKind.MANY_TO_ONE || (prop.kind === ReferenceKind.ONE_TO_ONE && !!prop.owner);
}

/** A property read from exactly one column of the entity's own table, with no side effects (no lazy loading, no reference wrapper). */
export function isPlainColumn(prop: EntityProperty): boolean {
  return isOwnColumn(prop) && !prop.lazy && !prop.ref;
}

/** The custom type a loaded entity's value passes through (for relations: the related key's). */
function storedType(prop: EntityProperty): Type<unknown> | undefined {
  if (prop.kind === ReferenceKind.SCALAR) return prop.customType;
  const key = prop.targetMeta?.getPrimaryProps()[0];
  return key?.customType;
}
