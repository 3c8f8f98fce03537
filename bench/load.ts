// The load generator: a process of its own, with a grpc-js client per run.
// Forked with IPC (as the benchmark does), it runs each LoadSpec it is sent and answers with its
// LoadResult, so one process serves the whole benchmark. Run by hand:
// node load.js '<json LoadSpec>' prints one JSON LoadResult line.
import * as grpc from '@grpc/grpc-js';
import { randomUUID } from 'node:crypto';
import * as protoLoader from '@grpc/proto-loader';
import { JwtService } from '@nestjs/jwt';
import {
  BENCH_JWT_SECRET,
  BOOKS_PROTO,
  BULK_MESSAGES,
  BULK_PROTO,
  CREATE_CONTENT,
  PAGE_FILTER,
  PAGE_SIZE,
  PAGES_PROTO,
  POST_PROTO,
  RETRIES_PROTO,
  webAddressOf,
} from './common';
import { h2loadCreate, h2loadRetrieve, h2loadWebRetrieve } from './h2load';

export interface LoadSpec {
  address: string;
  /**
   * `retrieve-h2load`, `create-h2load`: driven by h2load instead of the grpc-js client; the
   * Create run sends `durationMs * H2LOAD_CREATES_PER_MS` requests, the same for every server.
   */
  workload:
    | 'retrieve'
    | 'retrieve-h2load'
    | 'retrieve-jwt-h2load'
    | 'retrieve-connect-json-h2load'
    | 'retrieve-grpc-web-h2load'
    | 'create'
    | 'create-request-id'
    | 'create-h2load'
    | 'bulk-create'
    | 'list'
    | 'list-books'
    | 'page';
  concurrency: number;
  durationMs: number;
  maxId: number;
  tag: string;
}

export interface LoadResult {
  calls: number;
  errors: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  meanMs?: number;
  /** How long the run took (h2load Create: the rate is settled from the stored rows afterwards). */
  seconds?: number;
  /** DATA bytes received by h2load. */
  dataBytes?: number;
  firstMessageMs?: number;
  totalMs?: number;
  messages?: number;
  messagesPerSecond?: number;
}

/** Creates per millisecond of `durationMs` in an h2load Create run: about what the framework serves on one core. */
const H2LOAD_CREATES_PER_MS = 1.2;

type Client = grpc.Client & Record<string, (...args: unknown[]) => unknown>;

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function unaryLoad(client: Client, spec: LoadSpec): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  const end = Date.now() + spec.durationMs;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: spec.concurrency }, async (_, worker) => {
      for (let i = worker; Date.now() < end; i += spec.concurrency) {
        const request =
          spec.workload === 'retrieve'
            ? { id: (i % spec.maxId) + 1 }
            : spec.workload === 'create-request-id'
              ? { title: `bench-${spec.tag}-${worker}-${i}`, content: CREATE_CONTENT, request_id: randomUUID() }
              : { title: `bench-${spec.tag}-${worker}-${i}`, content: CREATE_CONTENT };
        const method = spec.workload === 'retrieve' ? 'Retrieve' : 'Create';
        const t0 = process.hrtime.bigint();
        await new Promise<void>((resolve) =>
          client[method](request, (error: Error | null) => {
            if (error) errors++;
            resolve();
          }),
        );
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort((a, b) => a - b);
  return {
    calls: latencies.length,
    errors,
    rps: (latencies.length - errors) / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
}

/**
 * Paged List calls: each client asks for the first page, then the page after it with the token
 * it got, and again; both count. A page without PAGE_SIZE rows, or a first page without a token, is an error.
 */
async function pageLoad(client: Client, spec: LoadSpec): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  const end = Date.now() + spec.durationMs;
  const started = process.hrtime.bigint();
  const page = (page_token: string) =>
    new Promise<{ results: unknown[]; next_page_token: string } | undefined>((resolve) =>
      client.ListPage(
        { filter: PAGE_FILTER, page_size: PAGE_SIZE, page_token },
        (error: Error | null, reply: { results: unknown[]; next_page_token: string }) =>
          resolve(error || reply.results.length !== PAGE_SIZE ? undefined : reply),
      ),
    );
  await Promise.all(
    Array.from({ length: spec.concurrency }, async () => {
      let token = '';
      while (Date.now() < end) {
        const t0 = process.hrtime.bigint();
        const reply = await page(token);
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
        if (!reply || (!token && !reply.next_page_token)) errors++;
        token = token ? '' : (reply?.next_page_token ?? '');
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort((a, b) => a - b);
  return {
    calls: latencies.length,
    errors,
    rps: (latencies.length - errors) / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
}

/**
 * BulkCreate streams of BULK_MESSAGES posts, one after another for the run's duration (at least
 * one); `calls` counts messages, so calls/s compares with unary Creates' and every stored row
 * is checked as theirs are. A stream that fails counts all its messages as errors.
 */
async function bulkLoad(client: Client, spec: LoadSpec): Promise<LoadResult> {
  const latencies: number[] = [];
  let messages = 0;
  let errors = 0;
  const end = Date.now() + spec.durationMs;
  const started = process.hrtime.bigint();
  for (let stream = 0; stream === 0 || Date.now() < end; stream++) {
    const t0 = process.hrtime.bigint();
    const ok = await new Promise<boolean>((resolve) => {
      const call = client.BulkCreate((error: Error | null, reply: { posts: unknown[] }) =>
        resolve(!error && reply.posts.length === BULK_MESSAGES),
      ) as grpc.ClientWritableStream<object>;
      let i = 0;
      // Write as fast as the server takes them, no faster.
      const writeMore = () => {
        while (i < BULK_MESSAGES) {
          if (!call.write({ title: `bench-${spec.tag}-s${stream}-${i++}`, content: CREATE_CONTENT }))
            return void call.once('drain', writeMore);
        }
        call.end();
      };
      writeMore();
    });
    latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
    messages += BULK_MESSAGES;
    if (!ok) errors += BULK_MESSAGES;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort((a, b) => a - b);
  return {
    calls: messages,
    errors,
    rps: (messages - errors) / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
}

async function listLoad(client: Client): Promise<LoadResult> {
  const t0 = process.hrtime.bigint();
  let first: number | undefined;
  let messages = 0;
  await new Promise<void>((resolve, reject) => {
    const call = client.List({}) as grpc.ClientReadableStream<unknown>;
    call.on('data', () => {
      if (first === undefined) first = Number(process.hrtime.bigint() - t0) / 1e6;
      messages++;
    });
    call.on('end', resolve);
    call.on('error', reject);
  });
  const totalMs = Number(process.hrtime.bigint() - t0) / 1e6;
  return {
    calls: 1,
    errors: 0,
    rps: 0,
    p50Ms: totalMs,
    p99Ms: totalMs,
    firstMessageMs: first ?? totalMs,
    totalMs,
    messages,
    messagesPerSecond: messages / (totalMs / 1000),
  };
}

type Service = 'posts' | 'pages' | 'books' | 'bulk' | 'retries';
let clientConstructors: Record<Service, typeof grpc.Client> | undefined;

/** The client of a benchmark service (PostController, PostPages or BookList), its class made once per process. */
function benchClient(address: string, service: Service): Client {
  if (!clientConstructors) {
    const definition = protoLoader.loadSync([POST_PROTO, PAGES_PROTO, BOOKS_PROTO, BULK_PROTO, RETRIES_PROTO], {
      keepCase: true,
      defaults: true,
    });
    const pkg = grpc.loadPackageDefinition(definition) as unknown as {
      blog_proto: { PostController: typeof grpc.Client };
      bench_pages: { PostPages: typeof grpc.Client };
      bench_books: { BookList: typeof grpc.Client };
      bench_bulk: { PostBulk: typeof grpc.Client };
      bench_retries: { PostRetries: typeof grpc.Client };
    };
    clientConstructors = {
      posts: pkg.blog_proto.PostController,
      pages: pkg.bench_pages.PostPages,
      books: pkg.bench_books.BookList,
      bulk: pkg.bench_bulk.PostBulk,
      retries: pkg.bench_retries.PostRetries,
    };
  }
  return new clientConstructors[service](address, grpc.credentials.createInsecure()) as Client;
}

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  if (spec.workload === 'retrieve-h2load') return h2loadRetrieve(spec.address, spec.concurrency, spec.durationMs);
  if (spec.workload === 'retrieve-jwt-h2load') {
    // One token for the run, verified by the server on every call.
    const token = new JwtService({ secret: BENCH_JWT_SECRET }).sign({ sub: 'bench' }, { expiresIn: 3600 });
    return h2loadRetrieve(spec.address, spec.concurrency, spec.durationMs, {
      service: '/bench_auth.AuthedPosts',
      headers: [['authorization', `Bearer ${token}`]],
    });
  }
  if (spec.workload === 'retrieve-connect-json-h2load')
    return h2loadWebRetrieve(webAddressOf(spec.address), 'connect-json', spec.concurrency, spec.durationMs);
  if (spec.workload === 'retrieve-grpc-web-h2load')
    return h2loadWebRetrieve(webAddressOf(spec.address), 'grpc-web', spec.concurrency, spec.durationMs);
  if (spec.workload === 'create-h2load') {
    return h2loadCreate(spec.address, spec.concurrency, Math.round(spec.durationMs * H2LOAD_CREATES_PER_MS), spec.tag);
  }
  const service: Service =
    spec.workload === 'page'
      ? 'pages'
      : spec.workload === 'list-books'
        ? 'books'
        : spec.workload === 'bulk-create'
          ? 'bulk'
          : spec.workload === 'create-request-id'
            ? 'retries'
            : 'posts';
  const client = benchClient(spec.address, service);
  try {
    await new Promise<void>((resolve, reject) => client.waitForReady(Date.now() + 10000, (e) => (e ? reject(e) : resolve())));
    if (spec.workload === 'page') return await pageLoad(client, spec);
    if (spec.workload === 'bulk-create') return await bulkLoad(client, spec);
    return spec.workload === 'list' || spec.workload === 'list-books' ? await listLoad(client) : await unaryLoad(client, spec);
  } finally {
    client.close();
  }
}

if (require.main === module) {
  if (process.send) {
    process.on('message', (spec: LoadSpec) => {
      runLoad(spec).then(
        (result) => process.send!({ result }),
        (error: Error) => process.send!({ error: error.stack ?? error.message }),
      );
    });
    process.on('disconnect', () => process.exit(0));
    process.send('ready');
  } else {
    runLoad(JSON.parse(process.argv[2]) as LoadSpec).then((result) => process.stdout.write(`${JSON.stringify(result)}\n`));
  }
}
