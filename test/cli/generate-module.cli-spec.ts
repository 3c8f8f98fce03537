import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

const ROOT = path.join(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'lib', 'cli', 'main.js');
const BUF = path.join(ROOT, '.tools', 'node_modules', '.bin', 'buf');
const MODULE = 'test/fixtures/contract/contract.app.ts:ContractAppModule';
const GOLDEN = fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'contract', 'contract.golden.proto'), 'utf8');
const CENSUS =
  'syntax = "proto3";\n\npackage contract;\n\n// How many gadgets there are (written by hand: Count names it).\nmessage Census {\n    int32 gadgets = 1;\n}\n';

// Each run compiles the fixture's TypeScript: allow for a busy machine.
jest.setTimeout(60000);

/** Runs `grpc-framework generateproto --module` over the contract fixture, its proto in `dir`/contract (buf's layout). */
function generate(dir: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, 'generateproto', '--module', MODULE, ...args],
      { cwd: ROOT, env: { ...process.env, CONTRACT_PROTO_DIR: path.join(dir, 'contract') } },
      (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('grpc-framework generateproto --module', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'generate-module-'));
    fs.mkdirSync(path.join(dir, 'contract'));
    file = path.join(dir, 'contract', 'contract.proto');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true }));

  it("writes one file per package from the application's services and actions, taking a message an action names from the file", async () => {
    const unnamed = await generate(dir);
    expect(unnamed.code).toBe(1);
    expect(unnamed.stderr).toContain(
      "GadgetService.Count's response is the message Census, which no file of package contract declares yet: declare it there, or give the action a serializer or inline fields.",
    );
    expect(fs.existsSync(file)).toBe(false); // nothing written

    fs.writeFileSync(file, CENSUS);
    await expect(generate(dir)).resolves.toMatchObject({ code: 0, stdout: expect.stringContaining('contract.proto: updated') });
    expect(fs.readFileSync(file, 'utf8')).toBe(GOLDEN);
    await expect(generate(dir)).resolves.toMatchObject({ code: 0, stdout: expect.stringContaining('contract.proto: up to date') });

    // buf builds the google.api imports of the HTTP routes from copies beside it, and lints only the generated file.
    fs.copyFileSync(path.join(ROOT, 'test', 'fixtures', 'buf.yaml'), path.join(dir, 'buf.yaml'));
    fs.mkdirSync(path.join(dir, 'google', 'api'), { recursive: true });
    for (const name of ['annotations.proto', 'http.proto']) {
      fs.copyFileSync(path.join(ROOT, 'node_modules', 'google-proto-files', 'google', 'api', name), path.join(dir, 'google', 'api', name));
    }
    await expect(promisify(execFile)(BUF, ['lint', '--path', 'contract'], { cwd: dir })).resolves.toMatchObject({ stdout: '' });
  });

  it('writes the write message, presence and the null pattern with --write-message --presence --null-oneof', async () => {
    fs.writeFileSync(file, CENSUS);
    await expect(generate(dir, '--write-message', '--presence', '--null-oneof')).resolves.toMatchObject({ code: 0 });
    expect(fs.readFileSync(file, 'utf8')).toBe(
      fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'contract', 'contract.patterns.golden.proto'), 'utf8'),
    );
  });

  it('--check exits 0 on a matching tree and 1 with a unified diff on a drifted one', async () => {
    fs.writeFileSync(file, GOLDEN);
    const clean = await generate(dir, '--check');
    expect(clean).toMatchObject({ code: 0, stdout: 'The protos match the application: 1 generated.\n' });

    fs.writeFileSync(
      file,
      GOLDEN.replace('    rpc Count(google.protobuf.Empty) returns (Census) {}\n', '').replace(
        'string label = 2;',
        'string label = 2;\n    string color = 3;',
      ),
    );
    const drifted = await generate(dir, '--check');
    expect(drifted.code).toBe(1);
    expect(drifted.stdout).toContain(`--- ${path.relative(ROOT, file)}\ton disk\n+++ ${path.relative(ROOT, file)}\tgenerated`);
    expect(drifted.stdout).toContain('+    rpc Count(google.protobuf.Empty) returns (Census) {}');
    expect(drifted.stdout).toContain('-    string color = 3;\n+    reserved 3;\n+    reserved "color";');
    expect(drifted.stdout).toContain('1 proto file differs from what the application generates: run grpc-framework generateproto --module');
    expect(fs.readFileSync(file, 'utf8')).not.toBe(GOLDEN); // --check writes nothing
  });

  it('keeps numbers when the code changed, and refuses a change that breaks clients unless --allow-breaking', async () => {
    // The file as an older version of the code wrote it: serial was a string, a field was at 15.
    const older = GOLDEN.replace('int64 serial = 3;', 'string serial = 3;').replace(
      'string secret = 14;',
      'string secret = 14;\n    bool legacy = 15;',
    );
    fs.writeFileSync(file, older);
    const refused = await generate(dir);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('refused changes that break deployed clients (nothing was written)');
    expect(refused.stderr).toContain(`${path.relative(ROOT, file)}: message Gadget field serial = 3 changes type from string to int64.`);
    expect(fs.readFileSync(file, 'utf8')).toBe(older);

    await expect(generate(dir, '--allow-breaking')).resolves.toMatchObject({ code: 0 });
    expect(fs.readFileSync(file, 'utf8')).toBe(
      GOLDEN.replace('    string secret = 14;\n', '    string secret = 14;\n    reserved 15;\n    reserved "legacy";\n'),
    );
  });

  it('leaves a file marked hand-written alone and checks it against the services instead', async () => {
    const handWritten = `// grpc-framework: hand-written\n\n${GOLDEN.replace('    rpc Tags(TagsRequest) returns (stream Tag) {}\n', '')}`;
    fs.writeFileSync(file, handWritten);
    await expect(generate(dir)).resolves.toMatchObject({ code: 0, stdout: '' });
    expect(fs.readFileSync(file, 'utf8')).toBe(handWritten);
    const checked = await generate(dir, '--check');
    expect(checked.code).toBe(1);
    expect(checked.stderr).toContain('GadgetService.Tags (@GrpcAction, contract.GadgetController');
    expect(checked.stderr).toContain('the proto service has no rpc Tags. Add `rpc Tags(TagsRequest) returns (stream Tag);`');
  });
});
