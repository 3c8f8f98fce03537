// Bundles the sample's web page (sample/web/page) into dist/sample/web/public: run by `npm run build`.
// esbuild-wasm, not esbuild: the same bundler without per-platform binaries, so `npm ci` installs it anywhere.
import { build } from 'esbuild-wasm';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const PAGE = path.join(ROOT, 'sample', 'web', 'page');
export const PUBLIC_DIR = path.join(ROOT, 'dist', 'sample', 'web', 'public');

async function bundle(): Promise<void> {
  fs.mkdirSync(PUBLIC_DIR, { recursive: true });
  await build({
    entryPoints: [path.join(PAGE, 'app.ts')],
    outfile: path.join(PUBLIC_DIR, 'app.js'),
    bundle: true,
    format: 'iife',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    logLevel: 'warning',
  });
  fs.copyFileSync(path.join(PAGE, 'index.html'), path.join(PUBLIC_DIR, 'index.html'));
}

bundle().catch((error: Error) => {
  console.error(`The sample's web page could not be bundled: ${error.message}`);
  process.exit(1);
});
