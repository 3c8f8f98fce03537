import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { makeClient, unary } from '../utils/sample-app';

// Packs a copy of the project (so the build `prepack` runs cannot touch the dist/ other tests use).
jest.setTimeout(180000);

const ROOT = path.join(__dirname, '..', '..');

const run = promisify(execFile);

describe('npm pack', () => {
  it('builds first and ships the library, its typings and a grpc-framework bin that serves the quickstart', async () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'pack-'));
    try {
      const copy = path.join(work, 'project');
      fs.mkdirSync(copy);
      for (const entry of ['package.json', 'README.md', 'LICENSE', 'tsconfig.json', 'tsconfig.build.json', 'lib', 'sample', 'bench']) {
        fs.cpSync(path.join(ROOT, entry), path.join(copy, entry), { recursive: true });
      }
      fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'), 'dir');
      const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', work], { cwd: copy });
      const [packed] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
      const files = packed.files.map((file) => file.path);
      expect(files).toEqual(
        expect.arrayContaining([
          'package.json',
          'README.md',
          'LICENSE',
          'dist/lib/index.js',
          'dist/lib/index.d.ts',
          'dist/lib/testing/index.js',
          'dist/lib/cli/main.js',
        ]),
      );
      expect(files.filter((file) => !file.startsWith('dist/lib/') && !['package.json', 'README.md', 'LICENSE'].includes(file))).toEqual([]);

      // A project that installed the tarball: the package under node_modules, its dependencies beside it.
      const project = path.join(work, 'consumer');
      const modules = path.join(project, 'node_modules');
      fs.mkdirSync(modules, { recursive: true });
      await run('tar', ['xzf', path.join(work, packed.filename), '-C', work]);
      fs.renameSync(path.join(work, 'package'), path.join(modules, 'nestjs-grpc-framework'));
      for (const entry of fs.readdirSync(path.join(ROOT, 'node_modules'))) {
        if (!entry.startsWith('.')) fs.symlinkSync(path.join(ROOT, 'node_modules', entry), path.join(modules, entry), 'dir');
      }
      const manifest = JSON.parse(fs.readFileSync(path.join(modules, 'nestjs-grpc-framework', 'package.json'), 'utf8'));
      const bin = path.join(modules, 'nestjs-grpc-framework', manifest.bin['grpc-framework']);
      expect(fs.readFileSync(bin, 'utf8').startsWith('#!/usr/bin/env node')).toBe(true);
      const help = await run(process.execPath, [bin, '--help'], { cwd: project });
      expect(help.stdout).toContain('Usage: grpc-framework <command> [options]');
      const api = await run(
        process.execPath,
        [
          '-e',
          "const f = require('nestjs-grpc-framework'); console.log(typeof f.GrpcFrameworkModule, typeof require('nestjs-grpc-framework/testing').useGrpcTestingApp)",
        ],
        { cwd: project },
      );
      expect(api.stdout.trim()).toBe('function function');

      // The README's quickstart, copied into that project, checks and serves through the packed package.
      for (const file of ['quickstart.module.ts', 'schema-setup.ts', 'account', 'protos/account.proto']) {
        fs.cpSync(path.join(ROOT, 'sample', file), path.join(project, 'sample', file), { recursive: true });
      }
      const quickstart = ['--module', 'sample/quickstart.module.ts:QuickstartAppModule'];
      const checked = await run(process.execPath, [bin, 'check', ...quickstart], { cwd: project });
      expect(checked.stdout).toMatch(/System check identified no issues\.\n$/);
      const server = spawn(process.execPath, [bin, 'runserver', '127.0.0.1:0', ...quickstart], { cwd: project });
      try {
        let output = '';
        server.stdout.on('data', (chunk) => (output += chunk));
        server.stderr.on('data', (chunk) => (output += chunk));
        const until = Date.now() + 60000;
        while (!output.includes('Quit the server with CONTROL-C.')) {
          if (Date.now() > until || server.exitCode !== null) throw new Error(`runserver did not start:\n${output}`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        const address = /Starting gRPC server at (\S+)\n/.exec(output)![1]; // port 0: the port it bound
        const users = makeClient(address, 'account.UserController');
        await expect(unary(users, 'Create', { username: 'tom', email: 'tom@account.com' })).resolves.toMatchObject({ username: 'tom' });
        users.close();
      } finally {
        server.kill('SIGTERM');
      }
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  });
});
