import { FIELD_KINDS, relatedKeyOf } from '../serializers/field-kinds';
import type { FieldResult } from '../serializers/field-validation';
import type { FieldKind } from '../serializers/field-spec';
import { Comparator, FilterNode, FilterValue } from './filter-syntax';

/** A field clients may filter on, and how. */
export interface FilterableField {
  /** The name clients write: the proto field's. */
  name: string;
  /** The entity property it reads. */
  property: string;
  kind: FieldKind;
  comparators: ReadonlySet<Comparator>;
  /** An enum's entity values; a filter may name one as stored (`blue`) or by its proto name (`COLOR_BLUE`). */
  choices?: readonly (string | number)[];
}

/** A filter that is well formed but asks for what the service does not allow or a value its field cannot hold. */
export class FilterRefusedError extends Error {}

/** A condition as MikroORM takes it (`FilterQuery`): parameters, never SQL text. */
export type Condition = Record<string | symbol, unknown>;

/** Builds "text contains value" for a property; the database's way of saying it (see `containsCondition`). */
export type ContainsBuilder = (property: string, value: string) => Condition;

const MONGO_OPERATOR: Readonly<Record<Exclude<Comparator, ':'>, string>> = {
  '=': '$eq',
  '!=': '$ne',
  '<': '$lt',
  '<=': '$lte',
  '>': '$gt',
  '>=': '$gte',
};

/**
 * Turns a parsed filter into a MikroORM condition over the allowed fields, reading each value
 * by its field's type. Throws `FilterRefusedError` naming the field for anything not allowed.
 */
export function filterCondition(node: FilterNode, fields: ReadonlyMap<string, FilterableField>, contains: ContainsBuilder): Condition {
  switch (node.kind) {
    case 'and':
      return { $and: node.terms.map((term) => filterCondition(term, fields, contains)) };
    case 'or':
      return { $or: node.terms.map((term) => filterCondition(term, fields, contains)) };
    case 'not':
      return { $not: filterCondition(node.term, fields, contains) };
    case 'compare':
      return comparison(node, fields, contains);
  }
}

function comparison(
  node: Extract<FilterNode, { kind: 'compare' }>,
  fields: ReadonlyMap<string, FilterableField>,
  contains: ContainsBuilder,
): Condition {
  const field = fields.get(node.field);
  if (!field) {
    const allowed = [...fields.keys()];
    throw new FilterRefusedError(
      allowed.length
        ? `The filter cannot use ${node.field}; filterable fields: ${allowed.join(', ')}.`
        : 'This service does not allow filtering.',
    );
  }
  if (!field.comparators.has(node.comparator)) {
    throw new FilterRefusedError(`${field.name} cannot be compared with ${node.comparator}; allowed: ${[...field.comparators].join(' ')}.`);
  }
  if (node.comparator === ':') {
    if (FIELD_KINDS[field.kind].containsText) return contains(field.property, node.value.text);
    if (field.kind === 'relations') return { [field.property]: accepted(relatedKeyOf(field, node.value)) };
    throw new FilterRefusedError(`${field.name}: ":" applies to text and repeated fields only.`);
  }
  const value = valueOf(field, node.value);
  if (value === null && node.comparator !== '=' && node.comparator !== '!=') {
    throw new FilterRefusedError(`${field.name}: null can only be compared with = or !=.`);
  }
  return { [field.property]: { [MONGO_OPERATOR[node.comparator]]: value } };
}

/** A value read for its field's type (its kind's `filterValue`); null for a bare `null`. */
function valueOf(field: FilterableField, value: FilterValue): unknown {
  if (!value.quoted && value.text === 'null') return null;
  return accepted(FIELD_KINDS[field.kind].filterValue(field, value));
}

function accepted(read: FieldResult): unknown {
  if (!read.ok) throw new FilterRefusedError(read.error);
  return read.value;
}
