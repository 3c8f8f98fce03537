import { Comparator, parseFilter } from '../../lib/querying/filter-syntax';
import { FilterableField, filterCondition, FilterRefusedError } from '../../lib/querying/filter-query';
import type { FieldKind } from '../../lib/serializers/field-spec';
import { thrownMessage } from '../utils/thrown';

const field = (name: string, kind: FieldKind, comparators: Comparator[], property = name): [string, FilterableField] => [
  name,
  { name, property, kind, comparators: new Set(comparators) },
];
const COMPARISONS: Comparator[] = ['=', '!=', '<', '<=', '>', '>='];
const fields = new Map([
  field('title', 'string', ['=', '!=', ':']),
  field('created', 'date', COMPARISONS),
  field('id', 'integer', COMPARISONS),
  field('published', 'boolean', ['=']),
  field('author_id', 'relation', ['='], 'author'),
  field('groups', 'relations', [':']),
  field('balance', 'bigint', COMPARISONS),
]);
const contains = (property: string, value: string) => ({ contains: [property, value] });
const condition = (text: string) => filterCondition(parseFilter(text)!, fields, contains);
const refusal = (text: string) => thrownMessage(() => condition(text), FilterRefusedError);

describe('filterCondition', () => {
  it('reads each value by its field type into a MikroORM condition', () => {
    expect(condition('title = "Hello" AND id >= 3')).toEqual({ $and: [{ title: { $eq: 'Hello' } }, { id: { $gte: 3 } }] });
    expect(condition('created < "2024-01-31T09:00:00+01:00"')).toEqual({ created: { $lt: new Date('2024-01-31T08:00:00Z') } });
    expect(condition('published = true OR author_id = 7')).toEqual({ $or: [{ published: { $eq: true } }, { author: { $eq: 7 } }] });
    expect(condition('NOT title = null')).toEqual({ $not: { title: { $eq: null } } });
    expect(condition('title:"ell"')).toEqual({ contains: ['title', 'ell'] });
    expect(condition('groups:3')).toEqual({ groups: 3 });
    expect(condition('balance > 9007199254740993')).toEqual({ balance: { $gt: '9007199254740993' } });
  });

  it('refuses fields, comparators and values the service does not allow, naming them', () => {
    expect(refusal('content = "x"')).toBe(
      'The filter cannot use content; filterable fields: title, created, id, published, author_id, groups, balance.',
    );
    expect(refusal('title < "b"')).toBe('title cannot be compared with <; allowed: = != :.');
    expect(refusal('id = 1.5')).toBe('id: "1.5" is not an integer.');
    expect(refusal('id = "1"')).toBe('id: "1" is not an integer.');
    expect(refusal('created > 2024-13-01')).toBe('created: "2024-13-01" is not an RFC 3339 timestamp (like "2024-01-31T09:00:00Z").');
    expect(refusal('published = yes')).toBe('published: "yes" is not true or false.');
    expect(refusal('id < null')).toBe('id: null can only be compared with = or !=.');
    expect(filterCondition.bind(null, parseFilter('id = 1')!, new Map(), contains)).toThrow('This service does not allow filtering.');
  });
});
