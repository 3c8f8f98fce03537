import * as fs from 'node:fs';
import * as path from 'node:path';

/** The part of TypeScript's JavaScript API (typescript 5.x) used to load `.ts` modules. */
type TypeScriptApi = typeof import('typescript');

let registered = false;

/**
 * Lets `require` load TypeScript sources, so commands work on a project's own .ts files (with
 * decorator metadata, as MikroORM and Nest need) as well as on compiled JavaScript. Uses the
 * project's `typescript` package (5.x: its JavaScript API); nothing is written to disk.
 */
function registerTypeScript(file: string): void {
  if (registered || require.extensions['.ts']) return;
  const ts = typeScriptApi(file);
  registered = true;
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

/** The project's TypeScript compiler API, or an error saying what to install. */
function typeScriptApi(file: string): TypeScriptApi {
  const compiledInstead = `or compile first (tsc, nest build) and give the JavaScript file, e.g. --module dist/app.module.js:AppModule`;
  let ts: Partial<TypeScriptApi>;
  try {
    ts = require(require.resolve('typescript', { paths: [process.cwd(), __dirname] }));
  } catch {
    throw new Error(`Loading ${file} needs TypeScript: npm i -D typescript@5, ${compiledInstead}.`);
  }
  if (typeof ts.transpileModule !== 'function') {
    throw new Error(
      `Loading ${file} needs TypeScript's JavaScript API, which typescript ${ts.version ?? '(unknown version)'} does not have ` +
        `(TypeScript 7 is a native compiler without it). Install TypeScript 5 for the project: npm i -D typescript@5, ${compiledInstead}.`,
    );
  }
  return ts as TypeScriptApi;
}

/** Loads `path/to/file[.ts|.js]:ExportName` and returns the export. */
export function loadExport(reference: string, what: string): unknown {
  const separator = reference.lastIndexOf(':');
  if (separator <= 0) {
    throw new Error(`${what} "${reference}" must look like path/to/module:ExportName, e.g. src/blog/post.entity.ts:Post.`);
  }
  const file = path.resolve(reference.slice(0, separator));
  const name = reference.slice(separator + 1);
  const typeScript = /\.[cm]?ts$/.test(file) || (!/\.[cm]?js$/.test(file) && !fs.existsSync(`${file}.js`));
  if (typeScript) registerTypeScript(reference.slice(0, separator));
  const loaded = require(file) as Record<string, unknown>;
  if (!(name in loaded)) {
    throw new Error(`${file} has no export named "${name}" (exports: ${Object.keys(loaded).join(', ') || 'none'}).`);
  }
  return loaded[name];
}
