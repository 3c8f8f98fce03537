import * as path from 'node:path';
import { BetterSqliteDriver } from '@mikro-orm/better-sqlite';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { EntityManager, FilterQuery, Options, raw } from '@mikro-orm/core';
import { GrpcRequestRecord } from 'nestjs-grpc-framework';
import { Post } from '../sample/blog/post.entity';
import { Author } from '../sample/bookstore/author.entity';
import { Book } from '../sample/bookstore/book.entity';

// Compiled, this runs from dist/bench; the protos stay in the sample.
const ROOT = path.resolve(__dirname, __filename.endsWith('.ts') ? '..' : '../..');
export const POST_PROTO = path.join(ROOT, 'sample', 'protos', 'blog_proto', 'post.proto');
/** The paged List every server serves beside the tutorial's PostController. */
export const PAGES_PROTO = path.join(ROOT, 'bench', 'protos', 'post_pages.proto');
/** A List of books with their authors nested, which every server but the ceiling serves. */
export const BOOKS_PROTO = path.join(ROOT, 'bench', 'protos', 'book_list.proto');
/** Retrieve behind a bearer JWT, on the framework only (against its Retrieve without one). */
export const AUTH_PROTO = path.join(ROOT, 'bench', 'protos', 'post_auth.proto');
export const BULK_PROTO = path.join(ROOT, 'bench', 'protos', 'post_bulk.proto');
/** Create with a request_id, on the framework only (against its Create without one). */
export const RETRIES_PROTO = path.join(ROOT, 'bench', 'protos', 'post_retries.proto');
/** Posts sent in one BulkCreate stream. */
export const BULK_MESSAGES = 10_000;
/** The HS256 key of the benchmark's tokens. */
export const BENCH_JWT_SECRET = 'the benchmark signs its bearer tokens with this key';
/** The entities of the benchmark's database (GrpcRequestRecord: the framework's Creates with a request_id). */
export const BENCH_ENTITIES = [Post, Author, Book, GrpcRequestRecord];

/** What the page workload asks for: posts whose title has a "7", 50 at a time, in creation order. */
export const PAGE_FILTER = 'title:"7"';
export const PAGE_SIZE = 50;

/**
 * The same database settings for every server: a PostgreSQL URL, or an SQLite file in WAL mode
 * with a busy timeout.
 */
export function benchDatabase(location: string): Options {
  if (location.startsWith('postgresql://')) {
    return {
      driver: PostgreSqlDriver,
      clientUrl: location,
      entities: BENCH_ENTITIES,
      allowGlobalContext: false,
      pool: { min: 2, max: 10 },
    } as Options;
  }
  const file = location;
  return {
    driver: BetterSqliteDriver,
    dbName: file,
    entities: BENCH_ENTITIES,
    allowGlobalContext: false,
    pool: {
      afterCreate: (connection: { pragma(sql: string): unknown }, done: (error: Error | null, c: unknown) => void) => {
        connection.pragma('journal_mode = WAL');
        connection.pragma('busy_timeout = 5000');
        done(null, connection);
      },
    },
  } as Options;
}

/**
 * The benchmark's control messages over IPC (servers run with --expose-gc): `memory-start`
 * collects garbage, then samples the heap (V8's used heap plus memory outside it: buffers)
 * every 5 ms; `memory-stop` answers the peak's growth over the collected heap, in MB. Measured
 * inside the server because resident memory (RSS) keeps the pages a process once used, so
 * after earlier workloads it shows no growth at all. Timed runs never follow a collection: it
 * deoptimizes much of the server's code (see `measure` in run.ts).
 */
export function serveBenchControl(): void {
  let sampler: NodeJS.Timeout | undefined;
  let base = 0;
  let peak = 0;
  const used = () => {
    const memory = process.memoryUsage();
    return memory.heapUsed + memory.external;
  };
  process.on('message', (message) => {
    if (message === 'memory-start') {
      (globalThis as { gc?: () => void }).gc?.();
      base = peak = used();
      sampler = setInterval(() => (peak = Math.max(peak, used())), 5);
      process.send?.({ memory: 'started' });
    } else if (message === 'memory-stop') {
      clearInterval(sampler);
      peak = Math.max(peak, used());
      process.send?.({ memoryGrowthMb: (peak - base) / 1024 / 1024 });
    }
  });
}

/** The framework's bench server also answers gRPC-Web and Connect, on its gRPC port plus this. */
const WEB_PORT_OFFSET = 10_000;

/** The web address (gRPC-Web and Connect) of the framework's bench server at `address`. */
export function webAddressOf(address: string): string {
  const colon = address.lastIndexOf(':');
  return `${address.slice(0, colon)}:${Number(address.slice(colon + 1)) + WEB_PORT_OFFSET}`;
}

export const SERVERS = ['framework', 'baseline', 'nest-plain', 'ceiling'] as const;
/**
 * The framework's server with Prometheus metrics on, and with metrics and OpenTelemetry tracing
 * on (an SDK with a batching no-op exporter): measured only by the workloads that name them,
 * against the framework's server with both off.
 */
export const OBSERVED_SERVERS = ['framework-metrics', 'framework-traced'] as const;
export type ServerName = (typeof SERVERS)[number] | (typeof OBSERVED_SERVERS)[number];

/** A Post message as the hand-written servers build it. */
export interface PostMessage {
  id?: number;
  title?: string;
  content?: string;
}

/** Keyset pagination in creation order (the tutorial's ordering), as the framework's List reads. */
export function afterPost(last: Post | undefined): FilterQuery<Post> {
  if (!last) return {};
  return { $or: [{ created: { $gt: last.created } }, { created: last.created, id: { $gt: last.id } }] };
}

/** The content of every Post the benchmark creates. */
export const CREATE_CONTENT = 'benchmark content';

/** The title of the Posts one h2load Create run makes; a measurement's rows all start with `bench-<tag>-`. */
export const createdTitle = (tag: string): string => `bench-${tag}-h2load`;

/** `Post { id, title, content }` in protobuf wire format (zero and empty fields left out, as proto3 does). */
export function postMessage(post: { id?: number; title: string; content: string }): Buffer {
  const bytes: number[] = [];
  const varint = (n: number) => {
    for (; n >= 0x80; n = Math.floor(n / 0x80)) bytes.push((n % 0x80) | 0x80);
    bytes.push(n);
  };
  const text = (tag: number, value: string) => {
    if (!value) return;
    const encoded = Buffer.from(value, 'utf8');
    bytes.push(tag);
    varint(encoded.length);
    bytes.push(...encoded);
  };
  if (post.id) {
    bytes.push(0x08);
    varint(post.id);
  }
  text(0x12, post.title);
  text(0x1a, post.content);
  return Buffer.from(bytes);
}

/** The DATA bytes of a Create reply: the Post in a 5-byte gRPC frame. */
export const postReplyBytes = (id: number, title: string, content: string): number => 5 + postMessage({ id, title, content }).length;

export interface PageRequest {
  filter?: string;
  page_size?: number;
  page_token?: string;
}

export interface PageReply {
  results: PostMessage[];
  next_page_token: string;
}

/**
 * A page as a hand-written server serves it: the one filter form the workload sends (a title
 * containing a text, case-insensitive, as the framework's `:` reads), creation order, the
 * next page's position as an unsigned base64 token of the last row's keys.
 */
export async function handWrittenPage(em: EntityManager, request: PageRequest): Promise<PageReply> {
  const match = /^title:"(.*)"$/.exec(request.filter ?? '');
  if (!match) throw new Error('unsupported filter');
  const size = Math.min(request.page_size || PAGE_SIZE, 1000);
  const position = em.getPlatform().constructor.name.startsWith('PostgreSql') ? 'strpos' : 'instr';
  const conditions: FilterQuery<Post>[] = [
    { [raw((alias: string) => `${position}(lower(${alias}.title), lower(?))`, [match[1]])]: { $gt: 0 } },
  ];
  if (request.page_token) {
    const [created, id] = JSON.parse(Buffer.from(request.page_token, 'base64url').toString()) as [string, number];
    conditions.push(afterPost({ created: new Date(created), id } as Post));
  }
  const rows = await em.find(Post, { $and: conditions }, { orderBy: { created: 'asc', id: 'asc' }, limit: size + 1 });
  const more = rows.length > size;
  if (more) rows.length = size;
  const last = rows[rows.length - 1];
  return {
    results: rows.map((post) => ({ id: post.id, title: post.title, content: post.content })),
    next_page_token: more ? Buffer.from(JSON.stringify([last.created!.toISOString(), last.id])).toString('base64url') : '',
  };
}

/** A Book message with its author, as the hand-written servers build it (what the framework's serializer sends). */
export interface BookMessage {
  id: number;
  title: string;
  isbn: string;
  author_id: number;
  published: { seconds: number; nanos: number };
  price: string;
  in_stock: boolean;
  author: { id: number; name: string };
}

export function bookMessage(book: Book): BookMessage {
  const ms = book.published.getTime();
  return {
    id: book.id,
    title: book.title,
    isbn: book.isbn,
    author_id: book.author.id,
    published: { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 },
    // SQLite keeps a decimal as a number: sent with the column's two places, as PostgreSQL keeps it.
    price: Number(book.price).toFixed(2),
    in_stock: book.inStock,
    author: { id: book.author.id, name: book.author.name },
  };
}

/** Keyset pages of posts in creation order, 500 at a time: what the hand-written servers' List reads. */
export async function* postPages(em: EntityManager): AsyncGenerator<Post[]> {
  let last: Post | undefined;
  for (;;) {
    const page = await em.find(Post, afterPost(last), { orderBy: { created: 'asc', id: 'asc' }, limit: 500 });
    yield page;
    if (page.length < 500) return;
    last = page[page.length - 1];
    em.clear();
  }
}

/** Keyset pages of books by id, each with its author joined: what the hand-written servers read. */
export async function* bookPages(em: EntityManager): AsyncGenerator<Book[]> {
  let lastId = 0;
  for (;;) {
    const page = await em.find(Book, { id: { $gt: lastId } }, { populate: ['author'], orderBy: { id: 'asc' }, limit: 500 });
    yield page;
    if (page.length < 500) return;
    lastId = page[page.length - 1].id;
    em.clear();
  }
}
