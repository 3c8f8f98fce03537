import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { PageOptions, servePage } from '../../sample/web/page-server';

/** The sample's page server over a built page of three files, on a loopback port. */
describe("the sample's page server", () => {
  let directory: string;

  beforeAll(() => {
    directory = fs.mkdtempSync(path.join(os.tmpdir(), 'page-'));
    fs.writeFileSync(path.join(directory, 'index.html'), '<!doctype html>');
    fs.writeFileSync(path.join(directory, 'app.js'), 'void 0;\n//# sourceMappingURL=app.js.map');
    fs.writeFileSync(path.join(directory, 'app.js.map'), '{"sources":["app.ts"]}');
  });
  afterAll(() => fs.rmSync(directory, { recursive: true, force: true }));

  async function statuses(options: PageOptions | undefined, paths: string[]): Promise<number[]> {
    const server = http.createServer(servePage(directory, options));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      return await Promise.all(paths.map(async (p) => (await fetch(`http://127.0.0.1:${port}${p}`)).status));
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  }

  it('serves the page, and its source map only when asked to', async () => {
    expect(await statuses(undefined, ['/', '/app.js', '/app.js.map', '/../package.json'])).toEqual([200, 200, 404, 404]);
    expect(await statuses({ sourceMaps: true }, ['/app.js.map'])).toEqual([200]);
  });
});
