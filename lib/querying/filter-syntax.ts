/**
 * The filter grammar: a documented subset of AIP-160 (https://google.aip.dev/160).
 *
 * ```
 * filter      = [ expression ]
 * expression  = sequence { "AND" sequence }
 * sequence    = factor { factor }               (juxtaposed factors are ANDed)
 * factor      = term { "OR" term }              (OR binds tighter than AND, as in AIP-160)
 * term        = [ "NOT" | "-" ] simple
 * simple      = restriction | "(" expression ")"
 * restriction = field comparator value
 * field       = name { "." name }
 * comparator  = "=" | "!=" | "<" | "<=" | ">" | ">=" | ":"
 * value       = quoted string | word (number, true, false, null, or unquoted text)
 * ```
 *
 * Parsing only builds the tree; what a field may be compared with, and how a value is read
 * for the field's type, is `filter-query.ts`'s business.
 */

export type Comparator = '=' | '!=' | '<' | '<=' | '>' | '>=' | ':';

/** A value as written: quoted (always text) or a bare word (read by the field's type). */
export interface FilterValue {
  text: string;
  quoted: boolean;
}

export type FilterNode =
  | { kind: 'and'; terms: FilterNode[] }
  | { kind: 'or'; terms: FilterNode[] }
  | { kind: 'not'; term: FilterNode }
  | { kind: 'compare'; field: string; comparator: Comparator; value: FilterValue; position: number };

export interface FilterLimits {
  /** Characters in the filter text. @default 2000 */
  maxLength: number;
  /** Comparisons in the filter. @default 50 */
  maxTerms: number;
  /** Parentheses and NOTs nested in each other. @default 10 */
  maxDepth: number;
}

export const DEFAULT_FILTER_LIMITS: FilterLimits = { maxLength: 2000, maxTerms: 50, maxDepth: 10 };

/** A filter that is not well formed; `message` says what and where, for the client. */
export class FilterSyntaxError extends Error {}

type Token =
  | { type: 'word'; text: string; position: number }
  | { type: 'string'; text: string; position: number }
  | { type: 'comparator'; text: Comparator; position: number }
  | { type: '(' | ')' | '-' | 'AND' | 'OR' | 'NOT'; position: number };

const COMPARATORS: readonly Comparator[] = ['<=', '>=', '!=', '<', '>', '=', ':'];
const FIELD = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;
/** Characters that end a bare word, and a bare value. */
const WORD_END = /[\s()"'<>=!:]/;
const VALUE_END = /[\s()]/;

/** Parses a filter; undefined for an empty one. Throws `FilterSyntaxError`. */
export function parseFilter(text: string, limits: FilterLimits = DEFAULT_FILTER_LIMITS): FilterNode | undefined {
  if (text.length > limits.maxLength)
    throw new FilterSyntaxError(`The filter is ${text.length} characters long; at most ${limits.maxLength} are allowed.`);
  const parser = new Parser(tokenize(text), limits);
  return parser.filter();
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(' || c === ')') {
      tokens.push({ type: c, position: i++ });
    } else if (c === '"' || c === "'") {
      const start = i++;
      let value = '';
      while (i < text.length && text[i] !== c) {
        if (text[i] === '\\' && i + 1 < text.length) i++;
        value += text[i++];
      }
      if (i >= text.length) throw new FilterSyntaxError(`The string starting at position ${start + 1} is not closed with ${c}.`);
      i++;
      tokens.push({ type: 'string', text: value, position: start });
    } else if (COMPARATORS.some((op) => text.startsWith(op, i))) {
      const op = COMPARATORS.find((candidate) => text.startsWith(candidate, i))!;
      tokens.push({ type: 'comparator', text: op, position: i });
      i += op.length;
    } else if (c === '-' && tokens[tokens.length - 1]?.type !== 'comparator') {
      // A minus starts a negated term; after a comparator it is a negative number's sign.
      tokens.push({ type: '-', position: i++ });
    } else {
      // A value (after a comparator) may hold ':' and the like: a bare timestamp, `-5`.
      const end = tokens[tokens.length - 1]?.type === 'comparator' ? VALUE_END : WORD_END;
      const start = i;
      while (i < text.length && !end.test(text[i])) i++;
      const word = text.slice(start, i);
      if (!word) throw new FilterSyntaxError(`Unexpected "${c}" at position ${start + 1} of the filter.`);
      if (word === 'AND' || word === 'OR' || word === 'NOT') tokens.push({ type: word, position: start });
      else tokens.push({ type: 'word', text: word, position: start });
    }
  }
  return tokens;
}

class Parser {
  private index = 0;
  private terms = 0;
  private depth = 0;

  constructor(
    private readonly tokens: Token[],
    private readonly limits: FilterLimits,
  ) {}

  filter(): FilterNode | undefined {
    if (!this.tokens.length) return undefined;
    const node = this.expression();
    const extra = this.peek();
    if (extra) throw this.error(extra, extra.type === ')' ? 'a ")" without its "("' : 'the end of the filter');
    return node;
  }

  private expression(): FilterNode {
    return this.joined('and', 'AND', () => this.sequence());
  }

  private sequence(): FilterNode {
    const terms = [this.factor()];
    while (this.startsTerm(this.peek())) terms.push(this.factor());
    return terms.length === 1 ? terms[0] : { kind: 'and', terms };
  }

  private factor(): FilterNode {
    return this.joined('or', 'OR', () => this.term());
  }

  /** `part { separator part }`, one node for several parts. */
  private joined(kind: 'and' | 'or', separator: 'AND' | 'OR', part: () => FilterNode): FilterNode {
    const terms = [part()];
    while (this.peek()?.type === separator) {
      this.index++;
      terms.push(part());
    }
    return terms.length === 1 ? terms[0] : { kind, terms };
  }

  private term(): FilterNode {
    const token = this.peek();
    if (token?.type === 'NOT' || token?.type === '-') {
      this.index++;
      return { kind: 'not', term: this.nested(() => this.simple()) };
    }
    return this.simple();
  }

  private simple(): FilterNode {
    const token = this.next('a field name or "("');
    if (token.type === '(') {
      const node = this.nested(() => this.expression());
      const close = this.next('")"');
      if (close.type !== ')') throw this.error(close, '")"');
      return node;
    }
    if (token.type !== 'word' || !FIELD.test(token.text)) throw this.error(token, 'a field name or "("');
    const comparator = this.next(`a comparator (${COMPARATORS.join(' ')}) after ${token.text}`);
    if (comparator.type !== 'comparator') throw this.error(comparator, `a comparator (${COMPARATORS.join(' ')}) after ${token.text}`);
    const value = this.next(`a value after ${comparator.text}`);
    if (value.type !== 'word' && value.type !== 'string') throw this.error(value, `a value after ${comparator.text}`);
    if (++this.terms > this.limits.maxTerms) {
      throw new FilterSyntaxError(`The filter has more than ${this.limits.maxTerms} comparisons; simplify it or split the request.`);
    }
    return {
      kind: 'compare',
      field: token.text,
      comparator: comparator.text,
      value: { text: value.text, quoted: value.type === 'string' },
      position: token.position,
    };
  }

  private nested(parse: () => FilterNode): FilterNode {
    if (++this.depth > this.limits.maxDepth)
      throw new FilterSyntaxError(`The filter nests parentheses and NOTs more than ${this.limits.maxDepth} deep.`);
    const node = parse();
    this.depth--;
    return node;
  }

  private startsTerm(token: Token | undefined): boolean {
    return !!token && (token.type === 'word' || token.type === '(' || token.type === 'NOT' || token.type === '-');
  }

  private peek(): Token | undefined {
    return this.tokens[this.index];
  }

  private next(expected: string): Token {
    const token = this.tokens[this.index++];
    if (!token) throw new FilterSyntaxError(`The filter ends where ${expected} was expected.`);
    return token;
  }

  private error(token: Token, expected: string): FilterSyntaxError {
    const found = 'text' in token ? `"${token.text}"` : `"${token.type}"`;
    return new FilterSyntaxError(`Expected ${expected} at position ${token.position + 1} of the filter, found ${found}.`);
  }
}
