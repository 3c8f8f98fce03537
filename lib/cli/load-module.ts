import * as fs from 'node:fs';
import * as path from 'node:path';

let registered = false;

/**
 * Lets `require` load TypeScript sources, so commands work on a project's own .ts files (with
 * decorator metadata, as MikroORM and Nest need) as well as on compiled JavaScript. Uses the
 * project's `typescript` package; nothing is written to disk.
 */
export function registerTypeScript(): void {
  if (registered || require.extensions['.ts']) return;
  registered = true;
  let ts: typeof import('typescript');
  try {
    ts = require(require.resolve('typescript', { paths: [process.cwd(), __dirname] }));
  } catch {
    return; // without TypeScript only compiled JavaScript can be loaded
  }
  require.extensions['.ts'] = (module, filename) => {
    const source = fs.readFileSync(filename, 'utf8');
    const { outputText } = ts.transpileModule(source, {
      fileName: filename,
      compilerOptions: {
        module: ts.ModuleKind.CommonJS,
        target: ts.ScriptTarget.ES2022,
        experimentalDecorators: true,
        emitDecoratorMetadata: true,
        esModuleInterop: true,
        useDefineForClassFields: false,
        sourceMap: false,
      },
    });
    (module as unknown as { _compile(code: string, file: string): void })._compile(outputText, filename);
  };
}

/** Loads `path/to/file[.ts|.js]:ExportName` and returns the export. */
export function loadExport(reference: string, what: string): unknown {
  const separator = reference.lastIndexOf(':');
  if (separator <= 0) {
    throw new Error(`${what} "${reference}" must look like path/to/module:ExportName, e.g. src/blog/post.entity.ts:Post.`);
  }
  const file = path.resolve(reference.slice(0, separator));
  const name = reference.slice(separator + 1);
  registerTypeScript();
  const loaded = require(file) as Record<string, unknown>;
  if (!(name in loaded)) {
    throw new Error(`${file} has no export named "${name}" (exports: ${Object.keys(loaded).join(', ') || 'none'}).`);
  }
  return loaded[name];
}
