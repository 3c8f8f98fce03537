import * as grpc from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import * as http2 from 'node:http2';
import * as path from 'node:path';
import { Client } from 'pg';
import { makeClient, unary, GrpcClient } from '../utils/sample-app';
import { rawCall, RawCall } from '../utils/raw-http2';
import { SampleProcess, startSampleProcess } from '../utils/sample-process';
import { dropPostgresDatabase, POSTGRES_URL, TEST_DB } from '../utils/test-database';
import { loaded } from '../utils/reflection-client';

// Each test runs the sample in a process of its own, so its memory is measured alone.
jest.setTimeout(120000);

const LIST = '/blog_proto.PostController/List';

/** The promise's value, or a failure naming what did not happen within `ms`. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
const MIB = 1024 * 1024;

/** Inserts posts straight into the sample's database, past the serializer's limits, at the head of the List order. */
async function insertRaw(sample: SampleProcess, database: string | undefined, contents: string[]): Promise<void> {
  if (database) {
    const client = new Client({ connectionString: database });
    await client.connect();
    for (const [i, content] of contents.entries()) {
      await client.query('insert into blog_post (title, content, created) values ($1, $2, to_timestamp($3))', [`raw ${i}`, content, i]);
    }
    await client.end();
    return;
  }
  const Sqlite = require('better-sqlite3') as new (file: string) => {
    prepare(sql: string): { run(...args: unknown[]): void };
    close(): void;
  };
  const db = new Sqlite(path.join(sample.cwd, 'sample.sqlite3'));
  for (const [i, content] of contents.entries()) {
    db.prepare('insert into blog_post (title, content, created) values (?, ?, ?)').run(`raw ${i}`, content, i);
  }
  db.close();
}

describe('limits of response streams', () => {
  let sample: SampleProcess;
  let database: string | undefined;
  let posts: GrpcClient;

  beforeEach(async () => {
    const dbName = `grpc_fw_streams_${process.pid}_${Date.now()}`;
    database = TEST_DB === 'postgres' ? `${POSTGRES_URL}/${dbName}` : undefined;
    sample = await startSampleProcess(database ? { DATABASE_URL: database } : {}, { liveMemory: true });
    posts = makeClient(sample.address, 'blog_proto.PostController');
  });
  afterEach(async () => {
    posts.close();
    await sample.stop();
    if (database) await dropPostgresDatabase(new URL(database).pathname.slice(1));
  });

  const createPosts = async (count: number, content = 'c'.repeat(200)) => {
    for (let i = 0; i < count; i += 100) {
      await Promise.all(
        Array.from({ length: Math.min(100, count - i) }, (_, j) => unary(posts, 'Create', { title: `p${i + j}`, content })),
      );
    }
  };

  it('holds a bounded amount of memory for 200 slow and stalled streams of 3 MiB rows, and health answers throughout', async () => {
    await insertRaw(sample, database, ['a'.repeat(3 * MIB), 'b'.repeat(3 * MIB)]);
    await createPosts(300);
    const baseline = sample.rss();
    const sessions = Array.from({ length: 4 }, () => http2.connect(`http://${sample.address}`));
    const calls: RawCall[] = [];
    for (let i = 0; i < 200; i++) {
      const call = rawCall(sessions[i % 4], LIST, Buffer.alloc(0));
      call.pause();
      calls.push(call);
    }
    // Half never read; the other half take a little now and then.
    const slow = setInterval(() => {
      for (const call of calls.slice(100)) {
        call.resume();
        setTimeout(() => call.pause(), 5);
      }
    }, 200);
    const health = new loaded.grpc.health.v1.Health(sample.address, grpc.credentials.createInsecure()) as GrpcClient;
    let peak = 0;
    let slowestHealth = 0;
    try {
      for (const until = Date.now() + 8000; Date.now() < until;) {
        const started = Date.now();
        await expect(unary(health, 'Check', { service: '' }, undefined, { deadline: Date.now() + 1000 })).resolves.toEqual({
          status: 'SERVING',
        });
        slowestHealth = Math.max(slowestHealth, Date.now() - started);
        peak = Math.max(peak, sample.rss());
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    } finally {
      clearInterval(slow);
      health.close();
      for (const call of calls) call.close();
      for (const session of sessions) session.close();
    }
    expect(slowestHealth).toBeLessThan(1000);
    expect(peak).toBeLessThan(300 * MIB);
    expect(peak - baseline).toBeLessThan(200 * MIB);
  });

  it('holds no rows past streamMemoryBytes for 200 streams of 256 KiB rows whose clients took 16 and stopped, as a paused grpc-js client does', async () => {
    const row = 262144; // the largest text a model serializer takes by default
    await insertRaw(
      sample,
      database,
      Array.from({ length: 400 }, (_, i) => String(i % 10).repeat(row)),
    );
    const idle = await sample.liveMemory();
    const sessions = Array.from({ length: 4 }, () => http2.connect(`http://${sample.address}`));
    const calls: http2.ClientHttp2Stream[] = [];
    // A grpc-js client whose application stops reading still takes 16 messages (its stream's buffer), then stops the HTTP/2 stream.
    const tookTheirShare = Promise.all(
      Array.from({ length: 200 }, (_, i) => {
        const call = sessions[i % 4].request({ ':method': 'POST', ':path': LIST, 'content-type': 'application/grpc', te: 'trailers' });
        calls.push(call);
        call.on('error', () => undefined);
        call.end(Buffer.alloc(5));
        let received = 0;
        return new Promise<void>((resolve, reject) => {
          call.on('data', (chunk: Buffer) => {
            received += chunk.length;
            if (received < 16 * row) return;
            call.pause();
            resolve();
          });
          call.on('close', () => reject(new Error(`a stream ended after ${received} bytes, before it took 16 rows`)));
        });
      }),
    );
    let peak = sample.rss();
    const sampling = setInterval(() => (peak = Math.max(peak, sample.rss())), 100);
    try {
      await within(tookTheirShare, 60000, '200 streams taking 16 rows each');
      // What the streams hold while their clients read nothing more, with garbage collected.
      const held = await sample.liveMemory();
      const grown = held.heapUsed + held.arrayBuffers - (idle.heapUsed + idle.arrayBuffers);
      // The rows of all streams (streamMemoryBytes, 32 MiB), and what each has handed to HTTP/2 (STREAM_PENDING_BYTES, 256 KiB).
      expect(grown).toBeLessThan(32 * MIB + 200 * 256 * 1024);
      expect(peak - idle.rss).toBeLessThan(300 * MIB);
    } finally {
      clearInterval(sampling);
      for (const call of calls) call.close(http2.constants.NGHTTP2_CANCEL);
      for (const session of sessions) session.close();
    }
  });

  it('caps the streams of one connection, and ends streams whose deadline passed, whether or not the client reads', async () => {
    await createPosts(3000, 'x'.repeat(2000));
    const capped = http2.connect(`http://${sample.address}`);
    const open = Array.from({ length: 100 }, () => rawCall(capped, LIST, Buffer.alloc(0)));
    for (const call of open) call.pause();
    const refused = rawCall(capped, LIST, Buffer.alloc(0));
    await expect(within(refused.ended, 10000, 'the 101st stream of a connection')).resolves.toMatchObject({
      'grpc-status': String(status.RESOURCE_EXHAUSTED),
    });
    capped.destroy();

    // Stalled streams and reading ones on connections of their own: stalled ones use up their connection's flow-control window.
    const session = http2.connect(`http://${sample.address}`);
    const stalling = http2.connect(`http://${sample.address}`);
    try {
      const started = Date.now();
      const reading = rawCall(session, LIST, Buffer.alloc(0), { 'grpc-timeout': '100m' });
      // It reads, a little at a time: on a fast machine a client reading flat out takes all 3,000 rows inside 100 ms.
      reading.pause();
      const readingSlowly = setInterval(() => {
        reading.resume();
        setTimeout(() => reading.pause(), 1);
      }, 20);
      const stalled = Array.from({ length: 50 }, () => rawCall(stalling, LIST, Buffer.alloc(0), { 'grpc-timeout': '100m' }));
      for (const call of stalled) call.pause();
      const expired = rawCall(session, LIST, Buffer.alloc(0), { 'grpc-timeout': '0n' });
      await expect(within(expired.ended, 10000, 'a stream whose deadline expired on arrival')).resolves.toMatchObject({
        'grpc-status': String(status.DEADLINE_EXCEEDED),
      });
      expect(expired.messages).toHaveLength(0);
      // The status goes out when it can; behind data the client has not taken, the stream is reset instead of kept open.
      const endedByDeadline = (outcome: Record<string, string> | 'reset') =>
        outcome === 'reset' || outcome['grpc-status'] === String(status.DEADLINE_EXCEEDED);
      expect(endedByDeadline(await within(reading.ended, 10000, 'a reading stream past its deadline'))).toBe(true);
      clearInterval(readingSlowly);
      expect(reading.messages.length).toBeGreaterThan(0);
      expect(reading.messages.length).toBeLessThan(3000);
      const outcomes = await within(Promise.all(stalled.map((call) => call.ended)), 10000, 'stalled streams past their deadline');
      for (const outcome of outcomes) expect(endedByDeadline(outcome)).toBe(true);
      expect(Date.now() - started).toBeLessThan(5000);
      // Every stream was let go: a full List runs on the same connection.
      const all = rawCall(session, LIST, Buffer.alloc(0));
      await expect(within(all.ended, 30000, 'a full List after the others ended')).resolves.toMatchObject({ 'grpc-status': '0' });
      expect(all.messages).toHaveLength(3000);
    } finally {
      session.close();
      stalling.destroy();
    }
  });
});
