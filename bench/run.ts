// `npm run bench [-- --quick]`: the framework against hand-written gRPC servers, interleaved in one run.
import 'reflect-metadata';
import { ChildProcess, execFileSync, fork, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MikroORM } from '@mikro-orm/core';
import { Post } from '../sample/blog/post.entity';
import { Author } from '../sample/bookstore/author.entity';
import { Book } from '../sample/bookstore/book.entity';
import { benchDatabase, CREATE_CONTENT, createdTitle, OBSERVED_SERVERS, postReplyBytes, SERVERS, ServerName } from './common';
import { h2loadCreateOutcome, hasH2load } from './h2load';
import type { LoadResult, LoadSpec } from './load';

const QUICK = process.argv.includes('--quick');
/** `--postgres` or `--postgres=postgresql://user@host:port`: run every server on PostgreSQL. */
const POSTGRES = (() => {
  const flag = process.argv.find((arg) => arg === '--postgres' || arg.startsWith('--postgres='));
  if (!flag) return undefined;
  return flag.includes('=') ? flag.slice(flag.indexOf('=') + 1) : 'postgresql://postgres@127.0.0.1:5432';
})();
/** `--only=create`: only the workloads whose name contains the text (for working on one of them). */
const ONLY = process.argv.find((arg) => arg.startsWith('--only='))?.slice('--only='.length);
const ROUNDS = QUICK ? 3 : 5;
const UNARY_MS = QUICK ? 1000 : 5000;
/**
 * Each unary measurement is preceded by this much of the same load, not measured: a server
 * that sat idle while the others were measured has cold code (V8 flushes what did not run for
 * a few collections) and a new connection to set up, which a short run would otherwise charge
 * it for (1 s runs showed a third of a steady server's rate).
 */
const WARM_MS = QUICK ? 400 : 1000;
/** `--servers=framework,ceiling`: run only these servers (a server alone, to compare with its figures in a full run). */
const ONLY_SERVERS = process.argv
  .find((arg) => arg.startsWith('--servers='))
  ?.slice('--servers='.length)
  .split(',') as ServerName[] | undefined;
const RUN_SERVERS: readonly ServerName[] = ONLY_SERVERS ?? [...SERVERS, ...OBSERVED_SERVERS];
const HAS_TASKSET = (() => {
  try {
    execFileSync('taskset', ['-c', '0', 'true']);
    return os.cpus().length > 1;
  } catch {
    return false;
  }
})();

interface Workload {
  name: string;
  spec: Omit<LoadSpec, 'address' | 'tag' | 'maxId'>;
  /** The headline figure and whether higher is better. */
  metric: keyof LoadResult;
  higherIsBetter: boolean;
  /** The servers that serve it. @default every server but the observed ones (metrics, tracing), which serve only the workloads naming them */
  servers?: readonly ServerName[];
}

const isList = (workload: LoadSpec['workload']): boolean => workload === 'list' || workload === 'list-books';

const UNARY_WORKLOADS: Workload[] = [
  { name: 'retrieve c=1', spec: { workload: 'retrieve', concurrency: 1, durationMs: UNARY_MS }, metric: 'rps', higherIsBetter: true },
  {
    name: 'retrieve c=64',
    spec: { workload: 'retrieve', concurrency: 64, durationMs: UNARY_MS },
    metric: 'rps',
    higherIsBetter: true,
    servers: [...SERVERS, ...OBSERVED_SERVERS],
  },
  { name: 'create c=16', spec: { workload: 'create', concurrency: 16, durationMs: UNARY_MS }, metric: 'rps', higherIsBetter: true },
  // The same Creates, each with a request_id whose response is stored for retries (framework only).
  {
    name: 'create c=16 with a request_id',
    spec: { workload: 'create-request-id', concurrency: 16, durationMs: UNARY_MS },
    metric: 'rps',
    higherIsBetter: true,
    servers: ['framework'],
  },
  // 10,000 posts per BulkCreate stream, in one transaction each: against create c=16 above (framework only).
  {
    name: 'bulk create, 10,000 per stream',
    spec: { workload: 'bulk-create', concurrency: 1, durationMs: UNARY_MS },
    metric: 'rps',
    higherIsBetter: true,
    servers: ['framework'],
  },
  // ListPage: 50 posts whose title has a "7", first and second pages in turn.
  { name: 'list page c=16', spec: { workload: 'page', concurrency: 16, durationMs: UNARY_MS }, metric: 'rps', higherIsBetter: true },
];
// One grpc-js client process tops out at a few thousand calls/s; h2load, when installed, does not.
const H2LOAD = hasH2load();
if (H2LOAD) {
  UNARY_WORKLOADS.splice(2, 0, {
    name: 'retrieve c=64 (h2load)',
    spec: { workload: 'retrieve-h2load', concurrency: 64, durationMs: QUICK ? 1000 : 5000 },
    metric: 'rps',
    higherIsBetter: true,
    servers: [...SERVERS, ...OBSERVED_SERVERS],
  });
  // The same Retrieve behind a bearer JWT verified per call: what authentication costs (framework only).
  UNARY_WORKLOADS.splice(3, 0, {
    name: 'retrieve c=64 with a JWT (h2load)',
    spec: { workload: 'retrieve-jwt-h2load', concurrency: 64, durationMs: QUICK ? 1000 : 5000 },
    metric: 'rps',
    higherIsBetter: true,
    servers: ['framework'],
  });
  // The same Retrieve from a browser's protocols on the web address: against native gRPC (framework only).
  for (const [name, workload] of [
    ['retrieve c=64 over Connect JSON (h2load)', 'retrieve-connect-json-h2load'],
    ['retrieve c=64 over gRPC-Web (h2load)', 'retrieve-grpc-web-h2load'],
  ] as const) {
    UNARY_WORKLOADS.splice(4, 0, {
      name,
      spec: { workload, concurrency: 64, durationMs: QUICK ? 1000 : 5000 },
      metric: 'rps',
      higherIsBetter: true,
      servers: ['framework'],
    });
  }
  UNARY_WORKLOADS.push({
    name: 'create c=16 (h2load)',
    spec: { workload: 'create-h2load', concurrency: 16, durationMs: QUICK ? 600 : 4000 },
    metric: 'rps',
    higherIsBetter: true,
  });
}
const listWorkload = (rows: number): Workload => ({
  name: `list ${rows.toLocaleString('en-US')} rows`,
  spec: { workload: 'list', concurrency: 1, durationMs: 0 },
  metric: 'totalMs',
  higherIsBetter: false,
});

/** Books seeded beside the posts, and their authors: a List of all of them, each with its author nested. */
const BOOKS = 10_000;
const AUTHORS = 500;
const booksWorkload: Workload = {
  name: `list ${BOOKS.toLocaleString('en-US')} books with authors`,
  spec: { workload: 'list-books', concurrency: 1, durationMs: 0 },
  metric: 'totalMs',
  higherIsBetter: false,
  // The ceiling touches no database: a join is not its kind of work.
  servers: ['framework', 'baseline', 'nest-plain'],
};
const isObserved = (name: ServerName): boolean => (OBSERVED_SERVERS as readonly string[]).includes(name);
const serves = (workload: Workload, name: ServerName): boolean => (workload.servers ? workload.servers.includes(name) : !isObserved(name));

interface Sample extends LoadResult {
  memoryGrowthMb?: number;
  /** Server CPU time (user + system) per call, in microseconds: what a call costs, whatever limits calls/s. */
  cpuUsPerCall?: number;
  /** Server CPU time for a whole List, in milliseconds. */
  serverCpuMs?: number;
}

const pinned = (core: number, args: string[]): [string, string[]] =>
  HAS_TASKSET ? ['taskset', ['-c', String(core), process.execPath, ...args]] : [process.execPath, args];

/** Where each copy of the seeded database lives: a file, or a PostgreSQL database. */
function databaseFor(dir: string, name: string): string {
  return POSTGRES ? `${POSTGRES}/grpc_fw_bench_${name.replace(/\W/g, '_')}` : path.join(dir, `${name}.sqlite3`);
}

async function postgresAdmin(sql: string): Promise<void> {
  const { Client } = require('pg') as typeof import('pg');
  const client = new Client({ connectionString: `${POSTGRES}/postgres` });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function cloneDatabase(seeded: string, copy: string): Promise<void> {
  if (!POSTGRES) return fs.copyFileSync(seeded, copy);
  await postgresAdmin(`DROP DATABASE IF EXISTS "${path.basename(copy)}" WITH (FORCE)`);
  await postgresAdmin(`CREATE DATABASE "${path.basename(copy)}" TEMPLATE "${path.basename(seeded)}"`);
}

async function dropDatabase(location: string): Promise<void> {
  if (POSTGRES) await postgresAdmin(`DROP DATABASE IF EXISTS "${path.basename(location)}" WITH (FORCE)`);
}

async function seed(file: string, rows: number, books: number): Promise<void> {
  await dropDatabase(file);
  const orm = await MikroORM.init(benchDatabase(file));
  await orm.getSchemaGenerator().refreshDatabase();
  const em = orm.em.fork();
  const created = new Date('2024-01-01T00:00:00Z').getTime();
  for (let i = 0; i < rows; i += 5000) {
    const batch = Array.from({ length: Math.min(5000, rows - i) }, (_, j) => ({
      title: `post ${i + j}`,
      content: `content of post ${i + j}, long enough to look like a short paragraph of text`,
      created: new Date(created + (i + j) * 1000),
    }));
    await em.insertMany(Post, batch);
  }
  if (books) {
    await em.insertMany(
      Author,
      Array.from({ length: AUTHORS }, (_, i) => ({ id: i + 1, name: `Author ${i + 1}` })),
    );
    for (let i = 0; i < books; i += 5000) {
      const batch = Array.from({ length: Math.min(5000, books - i) }, (_, j) => ({
        title: `Book ${i + j}`,
        isbn: String(9780000000000 + i + j),
        author: ((i + j) % AUTHORS) + 1,
        published: new Date(created + (i + j) * 86_400_000),
        price: `${10 + ((i + j) % 40)}.50`,
        inStock: (i + j) % 3 !== 0,
      }));
      await em.insertMany(Book, batch as never);
    }
  }
  await orm.close();
}

async function startServer(name: ServerName, port: number, dbFile: string, rows: number, workers = 1): Promise<ChildProcess> {
  const script = path.join(__dirname, 'servers', `${name}.js`);
  // Several workers get both cores; a single server process gets core 0.
  const child =
    HAS_TASKSET && workers === 1
      ? spawn('taskset', ['-c', '0', process.execPath, '--expose-gc', script, String(port), dbFile, String(rows)], {
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        })
      : fork(script, [String(port), dbFile, String(rows)], {
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
          execArgv: ['--expose-gc'],
          env: { ...process.env, BENCH_WORKERS: String(workers) },
        });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`${name} server exited with ${code}`)));
  });
  return child;
}

/** Stops a server and waits for it to be gone, so the next one has its core to itself. */
async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/**
 * The load generator: one process for the whole run, on the core the servers do not use, sent
 * one LoadSpec at a time (a process per measurement cost more than half a second each).
 */
class LoadGenerator {
  private constructor(private readonly child: ChildProcess) {}

  static async start(): Promise<LoadGenerator> {
    const [command, args] = pinned(1, [path.join(__dirname, 'load.js')]);
    const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`load generator exited with ${code}`)));
    });
    return new LoadGenerator(child);
  }

  run(spec: LoadSpec): Promise<LoadResult> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`load generator exited with ${code}`));
      this.child.once('exit', onExit);
      this.child.once('message', (reply: { result?: LoadResult; error?: string }) => {
        this.child.off('exit', onExit);
        if (reply.result) resolve(reply.result);
        else reject(new Error(`load ${spec.workload} against ${spec.address}: ${reply.error}`));
      });
      this.child.send(spec);
    });
  }

  stop(): void {
    this.child.kill('SIGTERM');
  }
}

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU time a process has used so far (user + system), in milliseconds, from /proc. */
function cpuMs(pid: number): number {
  // Fields 14 and 15 of /proc/<pid>/stat, counted after the command name's closing parenthesis.
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

/** taskset execs node in place, so the child's pid is the server's either way. */
function serverPid(child: ChildProcess): number {
  return child.pid!;
}

/** Sends a control message to a server and waits for its answer (see `serveBenchControl`). */
function control<T>(server: ChildProcess, message: string, answer: (reply: Record<string, unknown>) => T | undefined): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      server.off('message', onMessage);
      reject(new Error(`the server did not answer ${message}`));
    }, 10_000);
    function onMessage(reply: unknown): void {
      const value = typeof reply === 'object' && reply ? answer(reply as Record<string, unknown>) : undefined;
      if (value === undefined) return;
      clearTimeout(timer);
      server.off('message', onMessage);
      resolve(value);
    }
    server.on('message', onMessage);
    server.send(message);
  });
}

/**
 * One timed measurement. No server is asked to collect its garbage before it: a forced full
 * collection (`gc()`) throws away the optimized code of about 200 functions ("weak objects"
 * deoptimizations in `--trace-deopt`), and the next few thousand calls ran at a third of the
 * server's speed, so a timed run after it measured V8 re-optimizing, by an amount that differed
 * from server to server. The unmeasured warm-up before a unary run pays for the previous
 * workload's garbage and for a connection instead.
 */
async function measure(
  load: LoadGenerator,
  workload: Workload,
  name: ServerName,
  server: ChildProcess,
  port: number,
  dbFile: string,
  rows: number,
  tag: string,
): Promise<Sample> {
  const spec: LoadSpec = { ...workload.spec, address: `127.0.0.1:${port}`, maxId: Math.min(rows, 1000), tag };
  const pid = serverPid(server);
  if (!isList(spec.workload)) {
    const warm = await load.run({ ...spec, durationMs: WARM_MS, tag: `${tag}w` });
    if (isCreate(spec) && name !== 'ceiling') await removeCreated(dbFile, `${tag}w`, warm);
  }
  const cpuBefore = cpuMs(pid);
  let result = await load.run(spec);
  const cpuMsUsed = cpuMs(pid) - cpuBefore;
  if (isList(spec.workload)) return { ...result, serverCpuMs: cpuMsUsed };
  if (isCreate(spec)) {
    result = name === 'ceiling' ? ceilingCreateOutcome(result, tag) : await verifyAndRemoveCreated(dbFile, tag, result);
  }
  return { ...result, cpuUsPerCall: (cpuMsUsed * 1000) / Math.max(1, result.calls) };
}

/**
 * A List's memory cost: how far the server's heap (and buffers outside it) grew above a
 * collected heap at the List's peak, sampled inside the server. These runs come after every
 * timed run of the phase, because the collection they start from slows the code that runs
 * after it (see `measure`).
 */
async function measureListMemory(
  load: LoadGenerator,
  workload: Workload,
  server: ChildProcess,
  port: number,
  tag: string,
): Promise<number> {
  await control(server, 'memory-start', (reply) => (reply.memory === 'started' ? true : undefined));
  await load.run({ ...workload.spec, address: `127.0.0.1:${port}`, maxId: 0, tag });
  return control(server, 'memory-stop', (reply) => (typeof reply.memoryGrowthMb === 'number' ? reply.memoryGrowthMb : undefined));
}

/**
 * Every successful Create must be stored, and nothing else; then the table goes back to its
 * seeded size. An h2load run's outcome is settled here, from the rows it stored.
 */
async function verifyAndRemoveCreated(dbFile: string, tag: string, result: LoadResult): Promise<LoadResult> {
  const em = (await checkerOrm(dbFile)).em.fork();
  const mine = { title: { $like: `bench-${tag}-%` } };
  const stored = await em.find(Post, mine, { fields: ['id'] });
  if (result.dataBytes !== undefined)
    result = h2loadCreateOutcome(
      result,
      stored.map((post) => post.id),
      tag,
    );
  const succeeded = result.calls - result.errors;
  if (stored.length !== succeeded) throw new Error(`create ${tag}: ${succeeded} calls succeeded but ${stored.length} rows are stored`);
  await em.nativeDelete(Post, mine);
  return result;
}

const isCreate = (spec: LoadSpec): boolean =>
  spec.workload === 'create' ||
  spec.workload === 'create-request-id' ||
  spec.workload === 'create-h2load' ||
  spec.workload === 'bulk-create';

/** Removes a warm-up's Creates, so every measurement sees the seeded table. */
async function removeCreated(dbFile: string, tag: string, result: LoadResult): Promise<void> {
  if (!result.calls) return;
  await (await checkerOrm(dbFile)).em.fork().nativeDelete(Post, { title: { $like: `bench-${tag}-%` } });
}

/** The benchmark's own connection to a server's database, kept for the phase (opening one per check took a second). */
const checkerOrms = new Map<string, Promise<MikroORM>>();
function checkerOrm(location: string): Promise<MikroORM> {
  let orm = checkerOrms.get(location);
  if (!orm) checkerOrms.set(location, (orm = MikroORM.init(benchDatabase(location))));
  return orm;
}

async function closeCheckerOrm(location: string): Promise<void> {
  const orm = checkerOrms.get(location);
  checkerOrms.delete(location);
  if (orm) await (await orm).close();
}

/** The ceiling stores nothing and answers every Create with id 1. */
function ceilingCreateOutcome(result: LoadResult, tag: string): LoadResult {
  if (result.dataBytes === undefined) return result;
  const replies = Math.floor(result.dataBytes / postReplyBytes(1, createdTitle(tag), CREATE_CONTENT));
  return h2loadCreateOutcome(result, new Array<number>(replies).fill(1), tag);
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

interface Summary {
  [metric: string]: { median: number; min: number; max: number };
}

function summarize(samples: Sample[]): Summary {
  const summary: Summary = {};
  const keys = [
    'rps',
    'p50Ms',
    'p99Ms',
    'meanMs',
    'cpuUsPerCall',
    'firstMessageMs',
    'totalMs',
    'messagesPerSecond',
    'serverCpuMs',
    'memoryGrowthMb',
    'errors',
  ] as const;
  for (const key of keys) {
    const values = samples.map((s) => s[key]).filter((v): v is number => typeof v === 'number');
    if (values.length) summary[key] = { median: median(values), min: Math.min(...values), max: Math.max(...values) };
  }
  return summary;
}

async function main(): Promise<void> {
  if (!H2LOAD) process.stderr.write('h2load not found (apt-get install nghttp2-client): the h2load workloads are skipped\n');
  const phases = (
    QUICK
      ? [{ rows: 10_000, workloads: [...UNARY_WORKLOADS, listWorkload(10_000), booksWorkload] }]
      : [
          { rows: 10_000, workloads: [...UNARY_WORKLOADS, listWorkload(10_000), booksWorkload] },
          { rows: 100_000, workloads: [listWorkload(100_000)] },
        ]
  )
    .map((phase) => ({ ...phase, workloads: phase.workloads.filter((w) => !ONLY || w.name.includes(ONLY)) }))
    .filter((phase) => phase.workloads.length);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grpc-framework-bench-'));
  const load = await LoadGenerator.start();
  const results: Record<string, Record<string, Summary>> = {};
  let port = 51000 + Math.floor(Math.random() * 1000);
  for (const phase of phases) {
    const seeded = databaseFor(dir, `seed-${phase.rows}`);
    await seed(seeded, phase.rows, phase.workloads.includes(booksWorkload) ? BOOKS : 0);
    const databases = new Map<ServerName, string>();
    for (const name of RUN_SERVERS) {
      const db = databaseFor(dir, `${name}-${phase.rows}`);
      await cloneDatabase(seeded, db);
      databases.set(name, db);
    }
    const samples = new Map<string, Sample[]>();
    for (let round = 1; round <= ROUNDS; round++) {
      // Each round starts with the next server, so no server always runs first (or right after another).
      const order = RUN_SERVERS.map((_, i) => RUN_SERVERS[(i + round) % RUN_SERVERS.length]);
      for (const name of order) {
        const workloads = phase.workloads.filter((workload) => serves(workload, name));
        if (!workloads.length) continue;
        // One server alive at a time, alone on its core: what it measures is what it measures standalone.
        const db = databases.get(name)!;
        const serverPort = port++;
        const child = await startServer(name, serverPort, db, phase.rows);
        // A new process runs cold: one short pass over the workloads first, not measured. The
        // observed servers also warm up with Creates, as the framework's server does before its
        // Retrieves: MikroORM's flush runs in an AsyncLocalStorage, which turns Node's async hooks
        // on for good ("Where the time goes" 19), and both sides of a comparison should have them.
        const creates = isObserved(name) ? phase.workloads.filter((w) => w.spec.workload === 'create') : [];
        for (const workload of [...workloads, ...creates]) {
          const warm = isList(workload.spec.workload) ? workload : { ...workload, spec: { ...workload.spec, durationMs: 300 } };
          await measure(load, warm, name, child, serverPort, db, phase.rows, `${round}w-${name}`);
        }
        for (const workload of workloads) {
          const sample = await measure(load, workload, name, child, serverPort, db, phase.rows, `${round}-${name}`);
          samples.set(`${workload.name}|${name}`, [...(samples.get(`${workload.name}|${name}`) ?? []), sample]);
        }
        // After the timed runs: the collection a memory measurement starts from slows what follows it (see `measure`).
        for (const workload of workloads.filter((w) => isList(w.spec.workload))) {
          const growth = await measureListMemory(load, workload, child, serverPort, `m${round}-${name}`);
          samples.get(`${workload.name}|${name}`)!.at(-1)!.memoryGrowthMb = growth;
        }
        await stopServer(child);
      }
      process.stderr.write(`${phase.rows} rows: round ${round}/${ROUNDS} done\n`);
    }
    for (const workload of phase.workloads) {
      results[workload.name] = {};
      for (const name of RUN_SERVERS.filter((server) => serves(workload, server)))
        results[workload.name][name] = summarize(samples.get(`${workload.name}|${name}`)!);
    }
    for (const db of databases.values()) {
      await closeCheckerOrm(db);
      await dropDatabase(db).catch(() => undefined);
    }
    if (POSTGRES && !ONLY && !ONLY_SERVERS && phase.rows === phases[0].rows) await workersPhase(load, seeded, results);
    await dropDatabase(seeded).catch(() => undefined);
  }
  load.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  report(results);
}

/** Retrieve at concurrency 64 against the framework served by 1 and by 2 worker processes. */
async function workersPhase(load: LoadGenerator, seeded: string, results: Record<string, Record<string, Summary>>): Promise<void> {
  // The server sets the rate only with h2load; one grpc-js client process would cap both runs alike.
  const workload = UNARY_WORKLOADS.find((w) => w.spec.workload === 'retrieve-h2load') ?? UNARY_WORKLOADS[1];
  for (const workers of [1, 2]) {
    const db = databaseFor('', `workers-${workers}`);
    await cloneDatabase(seeded, db);
    const port = 53000 + workers;
    const child = await startServer('framework', port, db, 0, workers);
    const samples: Sample[] = [];
    for (let round = 0; round <= ROUNDS; round++) {
      const sample = await measure(load, workload, 'framework', child, port, db, 1000, `w${workers}-${round}`);
      if (round > 0) samples.push(sample);
    }
    child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await dropDatabase(db).catch(() => undefined);
    const summary = summarize(samples);
    // With several workers the measured process is the cluster's primary, which serves nothing.
    if (workers > 1) delete summary.cpuUsPerCall;
    results[`${workload.name}, ${workers} worker${workers > 1 ? 's' : ''}`] = { framework: summary };
    process.stderr.write(`workers=${workers} done\n`);
  }
}

function report(results: Record<string, Record<string, Summary>>): void {
  const workloads = [...UNARY_WORKLOADS, listWorkload(10_000), booksWorkload, listWorkload(100_000)].filter((w) => results[w.name]);
  const workerRows = Object.keys(results).filter((name) => name.includes('worker'));
  const json: Record<string, unknown> = {
    date: new Date().toISOString(),
    mode: QUICK ? 'quick' : 'full',
    database: POSTGRES ? 'postgresql' : 'sqlite',
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version, pinned: HAS_TASKSET },
    workloads: {},
  };
  const lines = [
    `| workload | metric | framework | baseline | nest-plain | ceiling | framework/baseline | framework/nest-plain |`,
    `|---|---|---|---|---|---|---|---|`,
  ];
  for (const workload of workloads) {
    const byServer = results[workload.name];
    const m = (name: string, metric = workload.metric as string) => byServer[name]?.[metric]?.median ?? NaN;
    const ratio = (other: string) => m('framework') / m(other);
    const cpu = isList(workload.spec.workload) ? 'serverCpuMs' : 'cpuUsPerCall';
    (json.workloads as Record<string, unknown>)[workload.name] = {
      metric: workload.metric,
      higher_is_better: workload.higherIsBetter,
      servers: byServer,
      ratio_vs_baseline: ratio('baseline'),
      ratio_vs_nest_plain: ratio('nest-plain'),
      // Server CPU per unit of work, framework/other: below 1 means the framework costs less.
      cpu_ratio_vs_baseline: m('framework', cpu) / m('baseline', cpu),
      cpu_ratio_vs_nest_plain: m('framework', cpu) / m('nest-plain', cpu),
    };
    const cell = (name: string) => cellOf(byServer, name, workload.metric as string);
    lines.push(
      `| ${workload.name} | ${workload.metric === 'rps' ? 'calls/s' : 'total ms'} | ${cell('framework')} | ${cell('baseline')} | ${cell('nest-plain')} | ${cell('ceiling')} | ${ratio('baseline').toFixed(2)} | ${ratio('nest-plain').toFixed(2)} |`,
    );
    if (!isList(workload.spec.workload)) {
      const latency = workload.spec.workload.endsWith('-h2load') ? ['mean ms', 'meanMs'] : ['p99 ms', 'p99Ms'];
      lines.push(`| ${workload.name} | ${latency[0]} | ${SERVERS.map((n) => fmt(m(n, latency[1]))).join(' | ')} | | |`);
      lines.push(costRow(workload.name, 'server CPU µs/call', (n) => m(n, 'cpuUsPerCall')));
    } else {
      lines.push(`| ${workload.name} | first message ms | ${SERVERS.map((n) => fmt(m(n, 'firstMessageMs'))).join(' | ')} | | |`);
      lines.push(`| ${workload.name} | messages/s | ${SERVERS.map((n) => fmt(m(n, 'messagesPerSecond'))).join(' | ')} | | |`);
      lines.push(costRow(workload.name, 'server CPU ms', (n) => m(n, 'serverCpuMs')));
      lines.push(`| ${workload.name} | server memory growth MB | ${SERVERS.map((n) => fmt(m(n, 'memoryGrowthMb'))).join(' | ')} | | |`);
    }
  }
  const unaryCreates = results['create c=16']?.framework?.rps?.median;
  const bulkCreates = results['bulk create, 10,000 per stream']?.framework?.rps?.median;
  if (unaryCreates && bulkCreates) {
    json.bulk_create_ratio = bulkCreates / unaryCreates;
    lines.push(
      `| bulk create, 10,000 per stream | posts/s against unary Creates (create c=16) | ${(bulkCreates / unaryCreates).toFixed(2)} | | | | | |`,
    );
  }
  const withRequestId = results['create c=16 with a request_id']?.framework?.rps?.median;
  if (unaryCreates && withRequestId) {
    json.request_id_create_ratio = withRequestId / unaryCreates;
    lines.push(`| create c=16 with a request_id | calls/s against create c=16 | ${(withRequestId / unaryCreates).toFixed(2)} | | | | | |`);
  }
  const plain = results['retrieve c=64 (h2load)']?.framework?.rps?.median;
  const withJwt = results['retrieve c=64 with a JWT (h2load)']?.framework?.rps?.median;
  if (plain && withJwt) {
    json.jwt_calls_ratio = withJwt / plain;
    lines.push(`| retrieve c=64 with a JWT (h2load) | calls/s against the same without one | ${(withJwt / plain).toFixed(2)} | | | | | |`);
  }
  for (const [name, key] of [
    ['retrieve c=64 over Connect JSON (h2load)', 'connect_json_calls_ratio'],
    ['retrieve c=64 over gRPC-Web (h2load)', 'grpc_web_calls_ratio'],
  ] as const) {
    const web = results[name]?.framework?.rps?.median;
    if (!plain || !web) continue;
    json[key] = web / plain;
    lines.push(`| ${name} | calls/s against native gRPC | ${(web / plain).toFixed(2)} | | | | | |`);
  }
  // What observability costs: the same Retrieve with metrics, and with metrics and tracing, on.
  for (const name of ['retrieve c=64 (h2load)', 'retrieve c=64']) {
    const off = results[name]?.framework?.rps?.median;
    for (const [server, what, key] of [
      ['framework-metrics', 'metrics on', 'metrics'],
      ['framework-traced', 'metrics and tracing on', 'metrics_and_tracing'],
    ] as const) {
      const on = results[name]?.[server]?.rps?.median;
      if (!off || !on) continue;
      const cost = 1 - on / off;
      json[`${key}_cost${name.includes('h2load') ? '_h2load' : ''}`] = cost;
      const cpu = results[name]![server]?.cpuUsPerCall?.median ?? NaN;
      lines.push(
        `| ${name}, ${what} | calls/s (against both off: ${(cost * 100).toFixed(1)}% fewer; server CPU ${fmt(cpu)} µs/call) | ${cellOf(results[name]!, server, 'rps')} | | | | | |`,
      );
    }
  }
  for (const name of workerRows) {
    const s = results[name].framework.rps;
    lines.push(`| ${name} (framework, PostgreSQL) | calls/s | ${fmt(s.median)} (${fmt(s.min)}-${fmt(s.max)}) | | | | | |`);
    (json.workloads as Record<string, unknown>)[name] = { metric: 'rps', higher_is_better: true, servers: results[name] };
  }
  const table = lines.join('\n');
  process.stdout.write(`\n${table}\n\nRatios above 1 favour the framework for calls/s, below 1 for total ms.\n`);
  // A run of some workloads (--only) or servers (--servers) is for working on them; the results files hold whole runs.
  if (ONLY || ONLY_SERVERS) return;
  const outDir = path.resolve(__dirname, __filename.endsWith('.ts') ? '.' : '../../bench', 'results');
  fs.mkdirSync(outDir, { recursive: true });
  const stem = POSTGRES ? 'latest-postgresql' : 'latest';
  fs.writeFileSync(path.join(outDir, `${stem}.json`), `${JSON.stringify(json, null, 2)}\n`);
  fs.writeFileSync(path.join(outDir, `${stem}.md`), `${table}\n`);
}

/** A server's median figure with its range, e.g. `5210 (5102-5300)`. */
function cellOf(byServer: Record<string, Summary>, server: string, metric: string): string {
  const s = byServer[server]?.[metric];
  return s ? `${fmt(s.median)} (${fmt(s.min)}-${fmt(s.max)})` : '-';
}

/** A row of costs (lower is better) with the framework's ratios to baseline and nest-plain. */
function costRow(workload: string, label: string, value: (server: string) => number): string {
  const cells = SERVERS.map((n) => fmt(value(n))).join(' | ');
  const ratio = (other: string) => (value('framework') / value(other)).toFixed(2);
  return `| ${workload} | ${label} | ${cells} | ${ratio('baseline')} | ${ratio('nest-plain')} |`;
}

function fmt(value: number): string {
  if (!Number.isFinite(value)) return '-';
  return value >= 100 ? Math.round(value).toString() : value.toFixed(1);
}

main().catch((error: Error) => {
  process.stderr.write(`bench: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
