import { readFileSync } from 'node:fs';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');
const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const includes = [...readme.matchAll(/<!-- include: (\S+) -->\n```\w*\n([\s\S]*?)\n```/g)];

interface Fence {
  line: number;
  indent: string;
  info: string;
}

/** The README's code fences in order, each with its line number, indentation and info string. */
function fences(text: string): Fence[] {
  return text.split('\n').flatMap((line, i) => {
    const m = /^(\s*)```(.*)$/.exec(line);
    return m ? [{ line: i + 1, indent: m[1], info: m[2].trim() }] : [];
  });
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as dashes, repeats numbered. */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  let inCode = false;
  for (const line of text.split('\n')) {
    if (/^\s*```/.test(line)) inCode = !inCode;
    const heading = !inCode && /^#{1,6}\s+(.*)$/.exec(line);
    if (!heading) continue;
    const base = heading[1]
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    result.add(count ? `${base}-${count}` : base);
  }
  return result;
}

describe('README', () => {
  it('includes sample files', () => {
    expect(includes.length).toBeGreaterThan(10);
    // An include whose fence is not where the marker says (a dropped line, a stray fence) is not checked below.
    expect(includes.length).toBe([...readme.matchAll(/<!-- include: /g)].length);
  });

  it.each(includes.map((m) => [m[1], m[2]]))('shows %s exactly as it is in the repository', (file, snippet) => {
    expect(snippet).toBe(readFileSync(path.join(ROOT, file), 'utf8').trimEnd());
  });

  it('closes every code block it opens, with a bare fence at the same indentation', () => {
    const list = fences(readme);
    const unclosed: string[] = [];
    for (let i = 0; i < list.length; i += 2) {
      const [open, close] = [list[i], list[i + 1]];
      if (!close || close.info !== '' || close.indent !== open.indent) unclosed.push(`line ${open.line} (\`\`\`${open.info})`);
    }
    expect(unclosed).toEqual([]);
  });

  it('links only to headings it has', () => {
    const known = anchors(readme);
    const links = [...readme.matchAll(/\]\(#([^)\s]+)\)/g)].map((m) => m[1]);
    expect(links.length).toBeGreaterThan(10);
    expect(links.filter((anchor) => !known.has(anchor))).toEqual([]);
  });
});
