import * as fs from 'node:fs';
import * as path from 'node:path';
import type { WebRequest, WebResponse } from 'nestjs-grpc-framework';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
};

export interface PageOptions {
  /** Serve the bundle's source map (`app.js.map`, the page's TypeScript source) too. @default false */
  sourceMaps?: boolean;
}

/**
 * Serves the bundled web page (`npm run build` makes it) for the web address's requests that
 * are not rpcs: the `fallback` of the `web` option. The source map is served only when asked
 * for (`sourceMaps`): it is for debugging, and publishes the page's source.
 */
export function servePage(directory: string, options: PageOptions = {}): (request: WebRequest, response: WebResponse) => void {
  const files = new Map<string, string>();
  for (const name of fs.existsSync(directory) ? fs.readdirSync(directory) : []) {
    if (name.endsWith('.map') && !options.sourceMaps) continue;
    files.set(`/${name}`, path.join(directory, name));
  }
  files.set('/', path.join(directory, 'index.html'));
  return (request, response) => {
    const file = request.method === 'GET' || request.method === 'HEAD' ? files.get(request.url?.split('?', 1)[0] ?? '') : undefined;
    if (!file || !fs.existsSync(file)) {
      response.writeHead(404, { 'content-type': 'text/plain' });
      response.end(files.size > 1 ? 'Not found.' : 'The page is not built: run `npm run build`.');
      return;
    }
    response.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
    if (request.method === 'HEAD') response.end();
    else response.end(fs.readFileSync(file));
  };
}
