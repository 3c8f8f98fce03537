import { EntityMetadata, EntityProperty, ReferenceKind } from '@mikro-orm/core';
import { ValidationFailedError } from '../errors/grpc-error';
import { FIELD_KINDS } from '../serializers/field-kinds';
import type { FieldSpec } from '../serializers/field-spec';
import type { SerializerSpec } from '../serializers/serializer-spec';
import { Condition, ContainsBuilder, filterCondition, FilterableField, FilterRefusedError } from './filter-query';
import { Comparator, FilterSyntaxError, parseFilter } from './filter-syntax';
import { OrderByRefusedError, OrderKey, parseOrderBy } from './order-by';
import type { KeyValue } from '../call/page-token';

/** Which fields clients may filter on, by proto field name, and with which comparators. */
export type FilterFields = Readonly<Record<string, readonly Comparator[]>>;

/** The List request fields of AIP-132/158/160, when the request message declares them. */
export interface ListRequestFields {
  filter?: string;
  order_by?: string;
  page_size?: number | string;
  page_token?: string;
}

/** What a filter backend makes of a List request. */
export interface ListNarrowing {
  /**
   * A condition to AND with the queryset's: made anew for each query, because MikroORM
   * consumes a raw SQL fragment (text search uses one) in the query that runs it.
   */
  where?: () => Condition;
  /** The order (primary key last), instead of the queryset's. */
  order?: OrderKey[];
  /** The request's text this came from: page tokens are bound to it, so a token made for another query is refused. */
  key: string;
}

/** What one List call reads: its filter, order and page, checked. */
export interface ListQuery {
  /** The filter's condition, to AND with the queryset's (see `ListNarrowing.where`). */
  where?: () => Condition;
  /** The client's order (primary key last); undefined for the service's. */
  order?: OrderKey[];
  /** Start after the row with these order values (from `page_token`). */
  after?: KeyValue[];
  /** Read at most this many rows; undefined for all. */
  pageSize?: number;
  /** What page tokens of this query are bound to. @internal */
  readonly key: string;
}

/** Every comparator, in the order messages list them. */
const ALL_COMPARATORS: readonly Comparator[] = ['=', '!=', '<', '<=', '>', '>=', ':'];

/**
 * What clients may ask a List of one service for: the filterable fields and their comparators,
 * the orderable fields. Made once per service class from its allowlists, its serializer (only
 * fields it sends qualify: a client must not learn what it cannot read) and the entity.
 */
export class ListQuerying {
  private constructor(
    private readonly filterable: ReadonlyMap<string, FilterableField>,
    private readonly orderable: ReadonlyMap<string, string>,
    private readonly primaryKey: string,
    private readonly contains: ContainsBuilder,
  ) {}

  /** Stands in for `contains` while a filter is only checked: makes no SQL fragment, which would wait for a query to consume it. */
  private readonly checkOnly: ContainsBuilder = () => ({});

  /** The querying of a service, or what is wrong with its allowlists (each problem names the field). */
  static create(
    allow: { filterFields?: FilterFields; orderingFields?: readonly string[] },
    spec: SerializerSpec,
    meta: EntityMetadata,
    contains: ContainsBuilder,
  ): { querying: ListQuerying } | { problems: string[] } {
    const problems: string[] = [];
    const sent = new Map(spec.readable.map((field) => [field.protoName, field]));
    const sentNames = [...sent.keys()].join(', ');
    const filterable = new Map<string, FilterableField>();
    for (const [name, comparators] of Object.entries(allow.filterFields ?? {})) {
      const field = sent.get(name);
      if (!field) {
        problems.push(`filterFields names "${name}", which the serializer does not send (fields it sends: ${sentNames}).`);
        continue;
      }
      const unusable = filterProblem(field, comparators, meta);
      if (unusable) problems.push(`filterFields "${name}": ${unusable}`);
      else
        filterable.set(name, {
          name,
          property: field.property,
          kind: field.kind,
          comparators: new Set(comparators),
          choices: field.choices,
        });
    }
    const orderable = new Map<string, string>();
    for (const name of allow.orderingFields ?? []) {
      const field = sent.get(name);
      if (!field) {
        problems.push(`orderingFields names "${name}", which the serializer does not send (fields it sends: ${sentNames}).`);
        continue;
      }
      const unusable = orderProblem(field, meta);
      if (unusable) problems.push(`orderingFields "${name}": ${unusable}`);
      else orderable.set(name, field.property);
    }
    if (problems.length) return { problems };
    return { querying: new ListQuerying(filterable, orderable, meta.primaryKeys[0], contains) };
  }

  /**
   * Reads a List request's `filter` and `order_by`: throws INVALID_ARGUMENT naming the field for
   * anything malformed or not allowed.
   */
  narrowing(filterText: string, orderText: string): ListNarrowing {
    return { where: this.where(filterText), order: this.order(orderText), key: `${filterText}\n${orderText}` };
  }

  private where(text: string): (() => Condition) | undefined {
    if (!text) return undefined;
    try {
      const node = parseFilter(text);
      if (!node) return undefined;
      filterCondition(node, this.filterable, this.checkOnly); // refuses now what is not allowed, before any query
      return () => filterCondition(node, this.filterable, this.contains);
    } catch (error) {
      if (error instanceof FilterSyntaxError || error instanceof FilterRefusedError) throw invalidListField('filter', error.message);
      throw error;
    }
  }

  private order(text: string): OrderKey[] | undefined {
    try {
      return parseOrderBy(text, this.orderable, this.primaryKey);
    } catch (error) {
      if (error instanceof OrderByRefusedError) throw invalidListField('order_by', error.message);
      throw error;
    }
  }
}

/** INVALID_ARGUMENT naming a List request field. */
export function invalidListField(field: keyof ListRequestFields, description: string): ValidationFailedError {
  return new ValidationFailedError([{ field, description }]);
}

function propertyOf(field: FieldSpec, meta: EntityMetadata): EntityProperty | undefined {
  return meta.properties[field.property as keyof typeof meta.properties] as EntityProperty | undefined;
}

/** Why a field cannot be filtered with these comparators, if it cannot. */
function filterProblem(field: FieldSpec, comparators: readonly Comparator[], meta: EntityMetadata): string | undefined {
  if (!Array.isArray(comparators) || !comparators.length)
    return `give the comparators it allows, e.g. ['=', '!='] (any of ${ALL_COMPARATORS.join(' ')}).`;
  const unknown = comparators.filter((c) => !ALL_COMPARATORS.includes(c));
  if (unknown.length) return `unknown comparator ${unknown.join(', ')} (use ${ALL_COMPARATORS.join(' ')}).`;
  if (field.path) return `it is read through a relation (${field.path.join('.')}); only ${meta.className}'s own columns can be filtered.`;
  const prop = propertyOf(field, meta);
  if (!prop || prop.persist === false || prop.formula || prop.embedded)
    return `${field.property} is not a stored property of ${meta.className}.`;
  if (field.kind === 'relations') {
    if (prop.kind !== ReferenceKind.MANY_TO_MANY) return `${field.property} is not a many-to-many collection.`;
    return comparators.some((c) => c !== ':') ? `a list of ids can only be filtered with ":" (has).` : undefined;
  }
  if (
    prop.kind !== ReferenceKind.SCALAR &&
    prop.kind !== ReferenceKind.MANY_TO_ONE &&
    !(prop.kind === ReferenceKind.ONE_TO_ONE && prop.owner)
  ) {
    return `${field.property} is not a column of ${meta.className}.`;
  }
  if (comparators.includes(':') && !FIELD_KINDS[field.kind].containsText)
    return `":" (has) applies to text and lists of ids, not to a ${field.kind}.`;
  if (!FIELD_KINDS[field.kind].ordered) return `a ${field.kind} field cannot be filtered.`;
  return undefined;
}

/** Why a field cannot be ordered by, if it cannot: pages continue after the last row's values, which needs non-null columns. */
function orderProblem(field: FieldSpec, meta: EntityMetadata): string | undefined {
  if (field.path) return `it is read through a relation (${field.path.join('.')}); only ${meta.className}'s own columns can be ordered by.`;
  const prop = propertyOf(field, meta);
  if (!prop || prop.kind !== ReferenceKind.SCALAR || prop.persist === false || prop.formula || prop.embedded) {
    return `${field.property} is not a column of ${meta.className} (only scalar columns can be ordered by).`;
  }
  if (!FIELD_KINDS[field.kind].ordered) return `a ${field.kind} field cannot be ordered by.`;
  if (prop.nullable)
    return `${field.property} is nullable; pages continue after the last row's values, so ordering needs a NOT NULL column.`;
  return undefined;
}
