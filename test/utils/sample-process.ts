import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');

export interface SampleProcess {
  child: ChildProcess;
  address: string;
  /** The web address: the page, gRPC-Web and Connect. */
  webAddress: string;
  /** The working directory (where the SQLite file is). */
  cwd: string;
  output(): string;
  /** The server's resident memory, in bytes. */
  rss(): number;
  /**
   * What the server's heap and buffers hold after a full garbage collection (started with
   * `{ liveMemory: true }`): what it keeps, not garbage it has not collected yet.
   */
  liveMemory(): Promise<LiveMemory>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface LiveMemory {
  heapUsed: number;
  arrayBuffers: number;
  rss: number;
}

export interface SampleProcessOptions {
  /** Lets `liveMemory()` ask the process for its memory after a full garbage collection. */
  liveMemory?: boolean;
}

/**
 * `node dist/sample/main.js` in a process of its own (so its memory is its own), in a fresh
 * working directory; `DATABASE_URL` picks PostgreSQL as `npm run sample` does.
 */
export async function startSampleProcess(env: NodeJS.ProcessEnv = {}, options: SampleProcessOptions = {}): Promise<SampleProcess> {
  const report = path.join(__dirname, 'live-memory-report.js');
  const nodeArgs = options.liveMemory ? ['--require', report] : [];
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'sample-'));
  // Port 0 for both: the log lines name the ports bound.
  const child = spawn(
    process.execPath,
    [...nodeArgs, path.join(ROOT, 'dist', 'sample', 'main.js'), '127.0.0.1:0', '--web', '127.0.0.1:0'],
    {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const until = Date.now() + 60000;
  while (!output.includes('gRPC-Web and Connect listening')) {
    if (Date.now() > until || child.exitCode !== null) throw new Error(`the sample did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const plain = output.replace(/\x1b\[[\d;]*m/g, ''); // Nest colours its log lines
  const address = /gRPC server listening on (\S+)/.exec(plain)![1];
  const webAddress = /gRPC-Web and Connect listening on https?:\/\/(\S+)/.exec(plain)![1];
  return {
    child,
    address,
    webAddress,
    cwd,
    output: () => output,
    rss: () => Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) * 1024,
    async liveMemory() {
      if (!options.liveMemory) throw new Error('start the sample process with { liveMemory: true } to measure its live memory');
      const reports = () => output.split('\n').filter((line) => line.startsWith('live-memory ')).length;
      const before = reports();
      child.kill('SIGUSR2');
      for (const until = Date.now() + 10000; reports() === before;) {
        if (Date.now() > until) throw new Error(`the sample process did not report its memory:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const lines = output.split('\n').filter((line) => line.startsWith('live-memory '));
      return JSON.parse(lines[lines.length - 1].slice('live-memory '.length)) as LiveMemory;
    },
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal);
      const code = await exited;
      fs.rmSync(cwd, { recursive: true, force: true });
      return code;
    },
  };
}
