import * as grpc from '@grpc/grpc-js';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import { GrpcFrameworkServer } from 'nestjs-grpc-framework';
import { Post } from '../../sample/blog/post.entity';
import { collect, GrpcClient, RunningSample, startSample } from '../utils/sample-app';

const ROWS = 2000;

/** Adds `ROWS` posts in one statement. */
async function seedPosts(sample: RunningSample): Promise<void> {
  const created = Date.UTC(2024, 0, 1);
  await sample.orm.em.fork().insertMany(
    Post,
    Array.from({ length: ROWS }, (_, i) => ({ title: `framed ${i}`, content: `content ${i}`, created: new Date(created + i * 1000) })),
  );
}

/** The length-prefixed frames of a response body (gRPC and gRPC-Web frame alike). */
function framesOf(bytes: Buffer): { flags: number; body: Buffer }[] {
  const frames: { flags: number; body: Buffer }[] = [];
  for (let at = 0; at + 5 <= bytes.length; at += 5 + bytes.readUInt32BE(at + 1)) {
    frames.push({ flags: bytes[at], body: bytes.subarray(at + 5, at + 5 + bytes.readUInt32BE(at + 1)) });
  }
  return frames;
}

/** A List over plain HTTP/2: its messages, and how many DATA chunks carried them. */
async function rawList(address: string): Promise<{ messages: number; chunks: number; status: string | undefined }> {
  const session = http2.connect(`http://${address}`);
  try {
    return await new Promise((resolve, reject) => {
      const stream = session.request({
        ':method': 'POST',
        ':path': '/blog_proto.PostController/List',
        'content-type': 'application/grpc',
        te: 'trailers',
      });
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('trailers', (trailers) =>
        resolve({
          messages: framesOf(Buffer.concat(chunks)).length,
          chunks: chunks.length,
          status: trailers['grpc-status'] as string | undefined,
        }),
      );
      stream.on('error', reject);
      stream.end(Buffer.alloc(5)); // an empty ListRequest
    });
  } finally {
    session.close();
  }
}

/**
 * A List over gRPC-Web on the web address, over HTTP/1.1 (a browser's protocol without TLS): its
 * messages, its trailer frame, and how many chunks of the chunked response carried them (one
 * per HTTP write).
 */
async function rawWebList(webAddress: string): Promise<{ messages: number; chunks: number; trailers: string }> {
  const [host, port] = [webAddress.slice(0, webAddress.lastIndexOf(':')), Number(webAddress.slice(webAddress.lastIndexOf(':') + 1))];
  const response = await new Promise<Buffer>((resolve, reject) => {
    const socket = net.connect(port, host);
    const received: Buffer[] = [];
    socket.on('data', (data) => received.push(data));
    socket.on('end', () => resolve(Buffer.concat(received)));
    socket.on('error', reject);
    const head = `POST /blog_proto.PostController/List HTTP/1.1\r\nhost: ${webAddress}\r\ncontent-type: application/grpc-web+proto\r\nx-grpc-web: 1\r\ncontent-length: 5\r\nconnection: close\r\n\r\n`;
    // Written, not ended: a half-closed socket would end the response early.
    socket.write(Buffer.concat([Buffer.from(head), Buffer.alloc(5)])); // an empty ListRequest
  });
  let at = response.indexOf('\r\n\r\n') + 4;
  const body: Buffer[] = [];
  let chunks = 0;
  for (;;) {
    const lineEnd = response.indexOf('\r\n', at);
    const size = parseInt(response.subarray(at, lineEnd).toString(), 16);
    if (!size) break;
    chunks++;
    body.push(response.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  const frames = framesOf(Buffer.concat(body));
  const trailers = frames.find((frame) => frame.flags & 0x80)?.body.toString() ?? '';
  return { messages: frames.filter((frame) => !(frame.flags & 0x80)).length, chunks, trailers };
}

describe('response streams written several messages at a time', () => {
  let sample: RunningSample;
  afterEach(() => sample?.close());

  it("frames a List's messages itself and writes many per HTTP/2 write: every row arrives, in order, in far fewer DATA chunks than messages", async () => {
    sample = await startSample();
    await seedPosts(sample);
    const posts = sample.client<GrpcClient>('blog_proto.PostController');
    const rows = await collect<{ id: number; title: string }>(posts, 'List', {});
    expect(rows).toHaveLength(ROWS);
    expect(rows.map((row) => row.title)).toEqual(Array.from({ length: ROWS }, (_, i) => `framed ${i}`));
    const raw = await rawList(sample.address);
    expect(raw).toMatchObject({ messages: ROWS, status: '0' });
    // One write per message would arrive as about one chunk per message.
    expect(raw.chunks).toBeLessThan(ROWS / 10);
  });

  it("writes a List's frames over gRPC-Web several at a time too: every row arrives, then the trailers, in far fewer chunks than messages", async () => {
    sample = await startSample({ grpc: { web: { url: '127.0.0.1:0' } } });
    await seedPosts(sample);
    const raw = await rawWebList(sample.app.get(GrpcFrameworkServer).webAddress!);
    expect(raw.messages).toBe(ROWS);
    expect(raw.trailers).toMatch(/^grpc-status: ?0\r\n/m);
    expect(raw.chunks).toBeLessThan(ROWS / 10);
  });

  it('with a grpc-js server interceptor, every message goes through grpc-js, where the interceptor sees it', async () => {
    let seen = 0;
    const counting: grpc.ServerInterceptor = (_descriptor, call) =>
      new grpc.ServerInterceptingCall(call, {
        sendMessage: (message, next) => {
          seen++;
          next(message);
        },
      });
    sample = await startSample({ grpc: { serverInterceptors: [counting] } });
    await seedPosts(sample);
    const posts = sample.client<GrpcClient>('blog_proto.PostController');
    const rows = await collect<{ title: string }>(posts, 'List', {});
    expect(rows).toHaveLength(ROWS);
    expect(rows.at(-1)?.title).toBe(`framed ${ROWS - 1}`);
    expect(seen).toBe(ROWS);
  });
});
