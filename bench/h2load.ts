// Retrieve load from h2load (Debian's nghttp2-client): a C HTTP/2 client that outpaces one
// grpc-js client process many times over, so the server, not the load generator, sets the rate.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { LoadResult } from './load';

const RETRIEVE = '/blog_proto.PostController/Retrieve';
/** The Post every call asks for: h2load sends one body, so every call is the same. */
const POST_ID = 5;

export function hasH2load(): boolean {
  return spawnSync('h2load', ['--version']).status === 0;
}

/** A gRPC frame (uncompressed flag, big-endian length) around `RetrieveRequest { id }`. */
function retrieveFrame(id: number): Buffer {
  const message = Buffer.from([0x08, id]); // field 1, varint; ids below 128 fit one byte
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  message.copy(frame, 5);
  return frame;
}

/** The size of one successful response's DATA: a reply's message bytes plus the 5-byte frame header. */
async function responseBytes(address: string): Promise<number> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  try {
    const reply = await new Promise<Buffer>((resolve, reject) =>
      client.makeUnaryRequest(
        RETRIEVE,
        (frame: Buffer) => frame,
        (bytes: Buffer) => bytes,
        retrieveFrame(POST_ID).subarray(5),
        (error, value) => (error || !value ? reject(error ?? new Error('empty reply')) : resolve(value)),
      ),
    );
    return reply.length + 5;
  } finally {
    client.close();
  }
}

/**
 * Runs h2load for `durationMs` with `concurrency` streams on one connection (it reports mean
 * latency, not percentiles). h2load sees only
 * HTTP statuses, and a gRPC error is a 200 with a status in its trailers and no message; so
 * calls that brought back less than a full reply's bytes are counted as errors.
 */
export async function h2loadRetrieve(address: string, concurrency: number, durationMs: number): Promise<LoadResult> {
  const expected = await responseBytes(address);
  const body = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'h2load-')), 'retrieve.bin');
  fs.writeFileSync(body, retrieveFrame(POST_ID));
  const args = ['-D', String(Math.max(1, Math.round(durationMs / 1000))), '-c', '1', '-m', String(concurrency)];
  args.push('-H', 'content-type: application/grpc', '-H', 'te: trailers', '-d', body, `http://${address}${RETRIEVE}`);
  const out = execFileSync('h2load', args, { encoding: 'utf8' });
  fs.rmSync(path.dirname(body), { recursive: true, force: true });
  const num = (pattern: RegExp): number => Number(pattern.exec(out)?.[1] ?? NaN);
  const seconds = num(/finished in ([\d.]+)s/);
  const succeeded = num(/(\d+) succeeded/);
  const total = num(/requests: (\d+) total/);
  const dataBytes = num(/\((\d+)\) data/);
  const withReply = Math.min(succeeded, Math.floor(dataBytes / expected));
  const meanMs = parseDuration(/time for request:\s+\S+\s+\S+\s+(\S+)/.exec(out)?.[1]);
  return { calls: total, errors: total - withReply, rps: withReply / seconds, p50Ms: NaN, p99Ms: NaN, meanMs };
}

/** h2load prints times as `850us`, `4.49ms` or `1.2s`. */
function parseDuration(text: string | undefined): number {
  const match = /^([\d.]+)(us|ms|s)$/.exec(text ?? '');
  if (!match) return NaN;
  const value = Number(match[1]);
  return match[2] === 'us' ? value / 1000 : match[2] === 's' ? value * 1000 : value;
}
