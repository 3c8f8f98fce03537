import fc from 'fast-check';
import { Comparator, FilterNode, FilterSyntaxError, parseFilter } from '../../lib/querying/filter-syntax';
import { thrownMessage } from '../utils/thrown';

const compare = (field: string, comparator: Comparator, text: string, quoted = false): FilterNode => ({
  kind: 'compare',
  field,
  comparator,
  value: { text, quoted },
  position: expect.any(Number) as unknown as number,
});

describe('parseFilter (a subset of AIP-160)', () => {
  it('reads comparisons, strings, negative numbers and dotted fields', () => {
    expect(parseFilter('title = "a \\"quoted\\" word"')).toEqual(compare('title', '=', 'a "quoted" word', true));
    expect(parseFilter('id > -5')).toEqual(compare('id', '>', '-5'));
    expect(parseFilter('author.id=3')).toEqual(compare('author.id', '=', '3'));
    expect(parseFilter('created >= 2024-01-01T00:00:00Z')).toEqual(compare('created', '>=', '2024-01-01T00:00:00Z'));
    expect(parseFilter('   ')).toBeUndefined();
  });

  it('binds OR tighter than AND, reads juxtaposed terms as AND, and negates with NOT or -', () => {
    expect(parseFilter('a = 1 AND b = 2 OR c = 3')).toEqual({
      kind: 'and',
      terms: [compare('a', '=', '1'), { kind: 'or', terms: [compare('b', '=', '2'), compare('c', '=', '3')] }],
    });
    expect(parseFilter('a = 1 b = 2')).toEqual({ kind: 'and', terms: [compare('a', '=', '1'), compare('b', '=', '2')] });
    expect(parseFilter('-title:"draft" AND NOT (id < 3 OR id > 9)')).toEqual({
      kind: 'and',
      terms: [
        { kind: 'not', term: compare('title', ':', 'draft', true) },
        { kind: 'not', term: { kind: 'or', terms: [compare('id', '<', '3'), compare('id', '>', '9')] } },
      ],
    });
  });

  it('says what it expected and where', () => {
    const error = (text: string) => thrownMessage(() => parseFilter(text), FilterSyntaxError);
    expect(error('title =')).toBe('The filter ends where a value after = was expected.');
    expect(error('title "x"')).toBe('Expected a comparator (<= >= != < > = :) after title at position 7 of the filter, found "x".');
    expect(error('(id = 1')).toBe('The filter ends where ")" was expected.');
    expect(error('id = 1)')).toBe('Expected a ")" without its "(" at position 7 of the filter, found ")".');
    expect(error('title = "open')).toBe('The string starting at position 9 is not closed with ".');
    expect(error('9lives = 1')).toBe('Expected a field name or "(" at position 1 of the filter, found "9lives".');
    expect(error('AND id = 1')).toBe('Expected a field name or "(" at position 1 of the filter, found "AND".');
  });

  it('refuses filters past the limits of length, comparisons and nesting', () => {
    const limits = { maxLength: 40, maxTerms: 2, maxDepth: 2 };
    expect(() => parseFilter('a = 1 AND b = 2 AND c = 3', limits)).toThrow('more than 2 comparisons');
    expect(() => parseFilter('NOT (NOT (NOT a = 1))', limits)).toThrow('more than 2 deep');
    expect(() => parseFilter(`title = "${'x'.repeat(40)}"`, limits)).toThrow('at most 40 are allowed');
  });

  // Property: any tree printed as text parses back to the same tree.
  const field = fc.constantFrom('id', 'title', 'created', 'author.id', 'a_b');
  const comparator = fc.constantFrom<Comparator>('=', '!=', '<', '<=', '>', '>=', ':');
  const value = fc.oneof(
    fc.string().map((text) => ({ text, quoted: true })),
    fc.integer().map((n) => ({ text: String(n), quoted: false })),
    fc.constantFrom('true', 'false', 'null', '2024-01-01T00:00:00Z').map((text) => ({ text, quoted: false })),
  );
  const leaf = fc.record({ kind: fc.constant('compare' as const), field, comparator, value });
  const tree: fc.Arbitrary<FilterNode> = fc.letrec<{ node: FilterNode }>((tie) => ({
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf as fc.Arbitrary<FilterNode>,
      fc.record({ kind: fc.constant('and' as const), terms: fc.array(tie('node'), { minLength: 2, maxLength: 3 }) }),
      fc.record({ kind: fc.constant('or' as const), terms: fc.array(tie('node'), { minLength: 2, maxLength: 3 }) }),
      fc.record({ kind: fc.constant('not' as const), term: tie('node') }),
    ),
  })).node;

  const print = (node: FilterNode): string => {
    switch (node.kind) {
      case 'and':
        return node.terms.map((t) => `(${print(t)})`).join(' AND ');
      case 'or':
        return node.terms.map((t) => `(${print(t)})`).join(' OR ');
      case 'not':
        return `NOT (${print(node.term)})`;
      case 'compare':
        return `${node.field} ${node.comparator} ${node.value.quoted ? `"${node.value.text.replace(/[\\"]/g, (c) => `\\${c}`)}"` : node.value.text}`;
    }
  };
  const strip = (node: FilterNode): unknown => {
    switch (node.kind) {
      case 'and':
      case 'or':
        return { kind: node.kind, terms: node.terms.map(strip) };
      case 'not':
        return { kind: 'not', term: strip(node.term) };
      case 'compare':
        return { kind: 'compare', field: node.field, comparator: node.comparator, value: node.value };
    }
  };
  const generous = { maxLength: 1_000_000, maxTerms: 10_000, maxDepth: 1_000 };

  it('parses any printed tree back to the same tree', () => {
    fc.assert(
      fc.property(tree, (node) => {
        expect(strip(parseFilter(print(node), generous)!)).toEqual(strip(node));
      }),
      { numRuns: 300 },
    );
  });

  it('answers any text with a tree or a FilterSyntaxError, never another error', () => {
    const pieces = fc.constantFrom(
      '(',
      ')',
      '"',
      "'",
      '\\',
      '-',
      'AND',
      'OR',
      'NOT',
      '=',
      '!=',
      '<',
      '<=',
      ':',
      ' ',
      'id',
      '1',
      'x.y',
      '\u00e9',
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.array(pieces).map((p) => p.join('')),
        ),
        (text) => {
          try {
            parseFilter(text);
          } catch (error) {
            expect(error).toBeInstanceOf(FilterSyntaxError);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
