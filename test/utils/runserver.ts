import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');
export const CLI = path.join(ROOT, 'dist', 'lib', 'cli', 'main.js');

export interface Running {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** The address the last "Starting gRPC server at ..." banner names (the bound port, when asked for port 0). */
export function announced(output: string, which: 'grpc' | 'web' = 'grpc'): string {
  const banners = [
    ...output.matchAll(/Starting gRPC server at (\S+?)(?:, gRPC-Web and Connect at (\S+?))?(?: with \d+ worker processes)?\n/g),
  ];
  const last = banners[banners.length - 1];
  if (!last) throw new Error(`no banner yet:\n${output}`);
  return which === 'grpc' ? last[1] : last[2];
}

/** Starts `grpc-framework runserver` in a fresh working directory (or `cwd`) and waits for its banner. */
export async function runserver(
  args: string[],
  cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'runserver-')),
  env: NodeJS.ProcessEnv = {},
): Promise<Running & { cwd: string; address: string }> {
  const child = spawn(process.execPath, [CLI, 'runserver', ...args], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const until = Date.now() + 40000;
  while (!output.includes('Quit the server with CONTROL-C.')) {
    if (Date.now() > until || child.exitCode !== null) throw new Error(`runserver did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { child, output: () => output, exited, cwd, address: announced(output) };
}
