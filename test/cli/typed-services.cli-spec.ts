import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');
const TSC = path.join(ROOT, 'node_modules', '.bin', 'tsc');

// tsc compiles the framework with the fixture.
jest.setTimeout(90000);

/** Compiles `source` with the project's settings (and the generated sample types) and resolves with tsc's errors. */
function compile(source: string): Promise<string[]> {
  const dir = fs.mkdtempSync(path.join(ROOT, 'test', '.typed-'));
  fs.writeFileSync(path.join(dir, 'services.ts'), source);
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ extends: '../../tsconfig.json', include: ['services.ts'] }));
  return new Promise((resolve) => {
    execFile(TSC, ['-p', path.join(dir, 'tsconfig.json'), '--noEmit', '--pretty', 'false'], (_error, stdout) => {
      fs.rmSync(dir, { recursive: true });
      // An error's further lines are indented: each error is one string.
      resolve(
        stdout
          .split(/\n(?=\S)/)
          .map((error) => error.replace(/\s*\n\s*/g, ' ').trim())
          .filter(Boolean),
      );
    });
  });
}

describe('the generated service and client types (sample/types/bookstore.ts) under tsc', () => {
  it('accept a service that serves every rpc, and refuse a missing rpc, a misspelt field and a wrong type', async () => {
    const errors = await compile(`
import { ModelService, Service } from 'nestjs-grpc-framework';
import { Author } from '../../sample/bookstore/author.entity';
import type { AuthorController, AuthorControllerClient, AuthorInit } from '../../sample/types/bookstore';

export class Serves extends ModelService(Author) implements AuthorController {}

export class Lacks extends Service implements AuthorController {
  async Retrieve(): Promise<AuthorInit> {
    return { id: 1, name: 'Le Guin' };
  }
}

export class Misspells extends ModelService(Author) implements AuthorController {
  override async Retrieve(): Promise<AuthorInit> {
    return { id: 1, nam: 'Le Guin' };
  }
}

export class Mistypes extends ModelService(Author) implements AuthorController {
  override async Retrieve() {
    return { id: 'one', name: 'Le Guin' };
  }
}

export async function callsWrongly(client: AuthorControllerClient): Promise<string> {
  const author = await client.Retrieve({ id: '1' });
  return author.nam;
}
`);
    const at = (line: number) => errors.filter((error) => error.includes(`services.ts(${line},`)).join('\n');
    expect(errors.some((error) => error.includes('services.ts(6,'))).toBe(false); // Serves compiles
    expect(at(8)).toContain(
      "error TS2420: Class 'Lacks' incorrectly implements interface 'AuthorController'. Type 'Lacks' is missing the following properties from type 'AuthorController': List, Create, Update, PartialUpdate, Destroy",
    );
    expect(at(16)).toContain(
      "error TS2561: Object literal may only specify known properties, but 'nam' does not exist in type 'AuthorInit'. Did you mean to write 'name'?",
    );
    expect(at(21)).toContain(
      "error TS2416: Property 'Retrieve' in type 'Mistypes' is not assignable to the same property in base type 'AuthorController'.",
    );
    expect(at(21)).toContain("Type 'string' is not assignable to type 'number'.");
    expect(at(27)).toContain("error TS2322: Type 'string' is not assignable to type 'number'.");
    expect(at(28)).toContain("error TS2551: Property 'nam' does not exist on type 'Author'. Did you mean 'name'?");
    expect(errors).toHaveLength(5);
  });
});
