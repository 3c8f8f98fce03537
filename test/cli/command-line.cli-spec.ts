import { execFile } from 'node:child_process';
import * as path from 'node:path';

const CLI = path.join(__dirname, '..', '..', 'dist', 'lib', 'cli', 'main.js');

/** Runs the built command line and resolves with its exit code and output, whatever the code. */
function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('grpc-framework command line', () => {
  it.each([
    ['generateproto', ['--entity <module:Class>', '--serializer <module:Class>', '--presence', '--null-oneof']],
    ['runserver', ['[address]', '--workers <n>', '--grace-period <ms>', '--web <address>', '--module <module:Export>']],
    ['check', ['--module <module:Export>']],
  ])('answers %s --help with its own options', async (command, options) => {
    const help = await cli([command, '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain(`Usage: grpc-framework ${command} [options]`);
    for (const option of options) expect(help.stdout).toContain(option);
  });

  it('lists the commands, and exits 1 without one', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/generateproto[\s\S]*runserver[\s\S]*check/);
    const bare = await cli([]);
    expect(bare.code).toBe(1);
    expect(bare.stderr).toContain('Usage: grpc-framework <command> [options]');
  });

  it('names a wrong option or value and how to find the right one', async () => {
    const misspelt = await cli(['generateproto', '--fiel', 'x.proto']);
    expect(misspelt.code).toBe(1);
    expect(misspelt.stderr).toContain("error: unknown option '--fiel'\n(Did you mean --file?)");
    expect(misspelt.stderr).toContain('--help');
    const workers = await cli(['runserver', '--workers', 'two']);
    expect(workers.code).toBe(1);
    expect(workers.stderr).toContain(`option '--workers <n>' argument 'two' is invalid. It needs a positive whole number, got "two".`);
    const unknown = await cli(['serve']);
    expect(unknown.stderr).toContain("error: unknown command 'serve'");
  });
});
