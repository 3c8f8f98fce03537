import { readFileSync } from 'node:fs';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');
const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const includes = [...readme.matchAll(/<!-- include: (\S+) -->\n```\w*\n([\s\S]*?)\n```/g)];

describe('README', () => {
  it('includes sample files', () => {
    expect(includes.length).toBeGreaterThan(10);
  });

  it.each(includes.map((m) => [m[1], m[2]]))('shows %s exactly as it is in the repository', (file, snippet) => {
    expect(snippet).toBe(readFileSync(path.join(ROOT, file), 'utf8').trimEnd());
  });
});
