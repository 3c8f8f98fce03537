import { choiceOfEnumName, upperSnake } from '../proto/enum-names';
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
/** Field kinds `:` reads as "contains". */
export const TEXT_KINDS: ReadonlySet<FieldKind> = new Set<FieldKind>(['string', 'text', 'enum']);
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;

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
    if (TEXT_KINDS.has(field.kind)) return contains(field.property, textOf(node.value));
    if (field.kind === 'relations') return { [field.property]: keyOf(field, node.value) };
    throw new FilterRefusedError(`${field.name}: ":" applies to text and repeated fields only.`);
  }
  const value = valueOf(field, node.value);
  if (value === null && node.comparator !== '=' && node.comparator !== '!=') {
    throw new FilterRefusedError(`${field.name}: null can only be compared with = or !=.`);
  }
  return { [field.property]: { [MONGO_OPERATOR[node.comparator]]: value } };
}

/** A value read for its field's type; null for a bare `null`. */
function valueOf(field: FilterableField, value: FilterValue): unknown {
  if (!value.quoted && value.text === 'null') return null;
  switch (field.kind) {
    case 'string':
    case 'text':
      return textOf(value);
    case 'enum':
      return choiceOf(field, value.text);
    case 'integer':
    case 'float': {
      const number = value.quoted ? NaN : Number(value.text);
      if (!Number.isFinite(number) || value.text.trim() === '' || (field.kind === 'integer' && !Number.isInteger(number))) {
        throw new FilterRefusedError(`${field.name}: "${value.text}" is not ${field.kind === 'integer' ? 'an integer' : 'a number'}.`);
      }
      return number;
    }
    case 'bigint':
    case 'decimal': {
      const pattern = field.kind === 'bigint' ? /^-?\d+$/ : /^-?\d+(\.\d+)?$/;
      if (!pattern.test(value.text))
        throw new FilterRefusedError(
          `${field.name}: "${value.text}" is not ${field.kind === 'bigint' ? 'an integer' : 'a decimal number'}.`,
        );
      return value.text;
    }
    case 'boolean':
      if (!value.quoted && (value.text === 'true' || value.text === 'false')) return value.text === 'true';
      throw new FilterRefusedError(`${field.name}: "${value.text}" is not true or false.`);
    case 'date': {
      const time = RFC3339.test(value.text) ? Date.parse(value.text) : NaN;
      if (Number.isNaN(time))
        throw new FilterRefusedError(`${field.name}: "${value.text}" is not an RFC 3339 timestamp (like "2024-01-31T09:00:00Z").`);
      return new Date(time);
    }
    case 'relation':
      return keyOf(field, value);
    default:
      throw new FilterRefusedError(`${field.name} cannot be filtered: its type has no comparisons.`);
  }
}

/** An enum value, given as stored or by its proto name. */
function choiceOf(field: FilterableField, text: string): string | number {
  const choices = field.choices;
  if (!choices) return text;
  const stored = choices.find((choice) => String(choice) === text);
  if (stored !== undefined) return stored;
  const named = choiceOfEnumName(text, choices);
  if (named !== undefined && named !== null) return named;
  throw new FilterRefusedError(`${field.name}: "${text}" is not one of ${choices.map(upperSnake).join(', ')}.`);
}

function textOf(value: FilterValue): string {
  return value.text;
}

/** A related object's key: an integer when it reads as one, else the text. */
function keyOf(field: FilterableField, value: FilterValue): number | string {
  if (!value.quoted && /^-?\d+$/.test(value.text) && Number.isSafeInteger(Number(value.text))) return Number(value.text);
  if (value.quoted && value.text) return value.text;
  throw new FilterRefusedError(`${field.name}: "${value.text}" is not a key.`);
}
