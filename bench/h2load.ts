// Unary load from h2load (Debian's nghttp2-client): a C HTTP/2 client that outpaces one
// grpc-js client process many times over, so the server, not the load generator, sets the rate.
// h2load sends one body for every request, so every call is the same call.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { CREATE_CONTENT, createdTitle, postMessage, postReplyBytes } from './common';
import type { LoadResult } from './load';

const SERVICE = '/blog_proto.PostController';
/** The Post every Retrieve asks for. */
const POST_ID = 5;

export function hasH2load(): boolean {
  return spawnSync('h2load', ['--version']).status === 0;
}

/** A gRPC frame (uncompressed flag, big-endian length) around a message. */
function grpcFrame(message: Buffer): Buffer {
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  message.copy(frame, 5);
  return frame;
}

/** `RetrieveRequest { id }`: field 1, varint; ids below 128 fit one byte. */
const retrieveMessage = (id: number): Buffer => Buffer.from([0x08, id]);

/** Which service an h2load run calls, and the headers it adds to every request (an authorization). */
export interface H2loadTarget {
  service: string;
  headers: readonly [string, string][];
}

const POSTS: H2loadTarget = { service: SERVICE, headers: [] };

/** The size of one successful reply's DATA: the reply's message bytes plus the 5-byte frame header. */
async function replyBytes(address: string, method: string, message: Buffer, target: H2loadTarget): Promise<number> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  const metadata = new grpc.Metadata();
  for (const [name, value] of target.headers) metadata.set(name, value);
  try {
    const reply = await new Promise<Buffer>((resolve, reject) =>
      client.makeUnaryRequest(
        `${target.service}/${method}`,
        (frame: Buffer) => frame,
        (bytes: Buffer) => bytes,
        message,
        metadata,
        (error, value) => (error || !value ? reject(error ?? new Error('empty reply')) : resolve(value)),
      ),
    );
    return reply.length + 5;
  } finally {
    client.close();
  }
}

interface H2loadRun {
  requests: number;
  /** Bytes of DATA received: a gRPC error is a 200 with a status in its trailers and no message. */
  dataBytes: number;
  seconds: number;
  meanMs: number;
}

/** One gRPC h2load run on one connection with `concurrency` streams, for a duration or a number of requests. */
function runH2load(
  address: string,
  method: string,
  message: Buffer,
  concurrency: number,
  limit: { durationMs: number } | { requests: number },
  target: H2loadTarget = POSTS,
): H2loadRun {
  const headers: [string, string][] = [['content-type', 'application/grpc'], ['te', 'trailers'], ...target.headers];
  return runH2loadRequests(`http://${address}${target.service}/${method}`, grpcFrame(message), headers, concurrency, limit);
}

/** One h2load run of the same POST (HTTP/2 with prior knowledge) on one connection. */
function runH2loadRequests(
  url: string,
  requestBody: Buffer,
  headers: readonly [string, string][],
  concurrency: number,
  limit: { durationMs: number } | { requests: number },
): H2loadRun {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'h2load-'));
  const body = path.join(dir, 'body.bin');
  fs.writeFileSync(body, requestBody);
  const args = 'requests' in limit ? ['-n', String(limit.requests)] : ['-D', `${Math.max(100, Math.round(limit.durationMs))}ms`];
  args.push('-c', '1', '-m', String(concurrency));
  for (const [name, value] of headers) args.push('-H', `${name}: ${value}`);
  args.push('-d', body, url);
  try {
    const out = execFileSync('h2load', args, { encoding: 'utf8' });
    const num = (pattern: RegExp): number => Number(pattern.exec(out)?.[1] ?? NaN);
    return {
      requests: num(/requests: (\d+) total/),
      dataBytes: num(/\((\d+)\) data/),
      seconds: parseDuration(/finished in (\S+?),/.exec(out)?.[1]) / 1000,
      // h2load reports the mean latency, not percentiles.
      meanMs: parseDuration(/time for request:\s+\S+\s+\S+\s+(\S+)/.exec(out)?.[1]),
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Retrieve of one Post for `durationMs`; calls that brought back less than a full reply count as errors. */
export async function h2loadRetrieve(
  address: string,
  concurrency: number,
  durationMs: number,
  target: H2loadTarget = POSTS,
): Promise<LoadResult> {
  const message = retrieveMessage(POST_ID);
  const expected = await replyBytes(address, 'Retrieve', message, target);
  const run = runH2load(address, 'Retrieve', message, concurrency, { durationMs }, target);
  const withReply = Math.min(run.requests, Math.floor(run.dataBytes / expected));
  return {
    calls: run.requests,
    errors: run.requests - withReply,
    rps: withReply / run.seconds,
    p50Ms: NaN,
    p99Ms: NaN,
    meanMs: run.meanMs,
  };
}

/** The web protocols the framework answers on its web address. */
export type WebProtocol = 'connect-json' | 'grpc-web';

const WEB_REQUESTS: Record<WebProtocol, { body: Buffer; headers: [string, string][] }> = {
  'connect-json': { body: Buffer.from(JSON.stringify({ id: POST_ID })), headers: [['content-type', 'application/json']] },
  'grpc-web': {
    body: grpcFrame(retrieveMessage(POST_ID)),
    headers: [
      ['content-type', 'application/grpc-web+proto'],
      ['x-grpc-web', '1'],
    ],
  },
};

/** The same Retrieve over the framework's web address, as a browser (or curl) sends it; errors count as for gRPC. */
export async function h2loadWebRetrieve(
  webAddress: string,
  protocol: WebProtocol,
  concurrency: number,
  durationMs: number,
): Promise<LoadResult> {
  const url = `http://${webAddress}${SERVICE}/Retrieve`;
  const request = WEB_REQUESTS[protocol];
  // One reply's body, fetched first: a reply of another length (an error) does not count.
  const reply = await fetch(url, { method: 'POST', headers: request.headers, body: request.body });
  const expected = (await reply.arrayBuffer()).byteLength;
  if (reply.status !== 200 || !expected) throw new Error(`Retrieve over ${protocol} answered HTTP ${reply.status}`);
  const run = runH2loadRequests(url, request.body, request.headers, concurrency, { durationMs });
  const withReply = Math.min(run.requests, Math.floor(run.dataBytes / expected));
  return {
    calls: run.requests,
    errors: run.requests - withReply,
    rps: withReply / run.seconds,
    p50Ms: NaN,
    p99Ms: NaN,
    meanMs: run.meanMs,
  };
}

/**
 * A fixed number of Creates, all with the same title, so every server does the same work. Reply
 * sizes vary with the new ids, so which calls succeeded is settled afterwards against the stored
 * rows (`h2loadCreateOutcome`); until then `errors` is not known.
 */
export async function h2loadCreate(address: string, concurrency: number, requests: number, tag: string): Promise<LoadResult> {
  const run = runH2load(address, 'Create', postMessage({ title: createdTitle(tag), content: CREATE_CONTENT }), concurrency, { requests });
  return {
    calls: run.requests,
    errors: NaN,
    rps: NaN,
    p50Ms: NaN,
    p99Ms: NaN,
    meanMs: run.meanMs,
    seconds: run.seconds,
    dataBytes: run.dataBytes,
  };
}

/**
 * The outcome of an h2load Create run, given the ids of the rows it stored: every stored row must
 * have come back as a reply and every reply must be a stored row, i.e. the DATA received is
 * exactly the replies for the stored rows.
 */
export function h2loadCreateOutcome(result: LoadResult, storedIds: readonly number[], tag: string): LoadResult {
  const expected = storedIds.reduce((sum, id) => sum + postReplyBytes(id, createdTitle(tag), CREATE_CONTENT), 0);
  if (expected !== result.dataBytes) {
    throw new Error(
      `create ${tag}: ${storedIds.length} rows are stored but the replies (${result.dataBytes} bytes) do not match them (${expected} bytes)`,
    );
  }
  const stored = storedIds.length;
  return { ...result, errors: result.calls - stored, rps: stored / result.seconds! };
}

/** h2load prints times as `850us`, `4.49ms` or `1.2s`. */
function parseDuration(text: string | undefined): number {
  const match = /^([\d.]+)(us|ms|s)$/.exec(text ?? '');
  if (!match) return NaN;
  const value = Number(match[1]);
  return match[2] === 'us' ? value / 1000 : match[2] === 's' ? value * 1000 : value;
}
