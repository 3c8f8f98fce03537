import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');
const GENERATED = path.join(ROOT, 'sample', 'web', 'gen');

function filesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => fs.statSync(path.join(dir, file)).isFile())
    .sort();
}

describe("the sample page's generated code (npm run sample:web:generate)", () => {
  it('is what protoc-gen-es makes of the protos today', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'web-gen-'));
    try {
      const script = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts['sample:web:generate'] as string;
      const [command, ...args] = script.split(' ');
      execFileSync(path.join(ROOT, command), [...args, '-o', out], { cwd: ROOT, stdio: 'pipe' });
      const fresh = path.join(out, 'sample', 'web', 'gen');
      expect(filesUnder(fresh)).toEqual(filesUnder(GENERATED));
      for (const file of filesUnder(GENERATED)) {
        // Out of date: run `npm run sample:web:generate` and commit sample/web/gen.
        expect(`${file}:\n${fs.readFileSync(path.join(fresh, file), 'utf8')}`).toBe(
          `${file}:\n${fs.readFileSync(path.join(GENERATED, file), 'utf8')}`,
        );
      }
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});
