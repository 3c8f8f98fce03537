/** One segment of a path template: a literal, `*` (one segment), or `**` (the rest, possibly none). */
type Atom = { kind: 'literal'; text: string } | { kind: 'one' } | { kind: 'rest' };

interface Capture {
  field: string;
  /** The atoms the variable spans, as indexes into the template's atoms. */
  from: number;
  to: number;
}

/**
 * An HTTP rule's path template (AIP-127, google/api/http.proto): literal segments, `*`, `**`,
 * variables `{field}` (one segment) or `{field=pattern}`, and an optional `:verb`. `match`
 * gives each variable's value, percent-decoded (a `**` variable keeps its slashes).
 */
export class PathTemplate {
  private readonly atoms: Atom[] = [];
  private readonly captures: Capture[] = [];
  private readonly verb?: string;

  constructor(readonly template: string) {
    if (!template.startsWith('/')) throw new Error(`the HTTP path template "${template}" does not start with "/"`);
    let body = template.slice(1);
    const verbAt = body.lastIndexOf(':');
    if (verbAt > body.lastIndexOf('}')) {
      this.verb = body.slice(verbAt + 1);
      body = body.slice(0, verbAt);
    }
    for (const token of tokens(body)) {
      const variable = /^\{([\w.]+)(?:=(.*))?\}$/.exec(token);
      if (!variable) {
        this.atoms.push(atomOf(token));
        continue;
      }
      const from = this.atoms.length;
      for (const part of (variable[2] ?? '*').split('/')) this.atoms.push(atomOf(part));
      this.captures.push({ field: variable[1], from, to: this.atoms.length });
    }
    if (this.atoms.slice(0, -1).some((atom) => atom.kind === 'rest'))
      throw new Error(`"**" may only end the HTTP path template "${template}"`);
  }

  /** The variables' values when `path` (without its query) fits the template; otherwise undefined. */
  match(path: string): Map<string, string> | undefined {
    let rest = path.startsWith('/') ? path.slice(1) : path;
    if (this.verb !== undefined) {
      if (!rest.endsWith(`:${this.verb}`)) return undefined;
      rest = rest.slice(0, -this.verb.length - 1);
    }
    const segments = rest === '' ? [] : rest.split('/');
    const matched: string[][] = [];
    for (let i = 0; i < this.atoms.length; i++) {
      const atom = this.atoms[i];
      if (atom.kind === 'rest') {
        matched.push(segments.slice(i));
        segments.length = i;
        break;
      }
      const segment = segments[i];
      if (segment === undefined || segment === '' || (atom.kind === 'literal' && segment !== atom.text)) return undefined;
      matched.push([segment]);
    }
    if (segments.length > matched.length && this.atoms.at(-1)?.kind !== 'rest') return undefined;
    const values = new Map<string, string>();
    for (const capture of this.captures) {
      const parts = matched.slice(capture.from, capture.to).flat();
      try {
        values.set(capture.field, parts.map((part) => decodeURIComponent(part)).join('/'));
      } catch {
        return undefined; // malformed percent-encoding: no match
      }
    }
    return values;
  }
}

/** Splits on the slashes outside `{...}`. */
function tokens(body: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of body) {
    if (char === '{') depth++;
    if (char === '}') depth--;
    if (char === '/' && depth === 0) {
      out.push(current);
      current = '';
    } else current += char;
  }
  out.push(current);
  return out;
}

function atomOf(text: string): Atom {
  if (text === '*') return { kind: 'one' };
  if (text === '**') return { kind: 'rest' };
  return { kind: 'literal', text };
}
