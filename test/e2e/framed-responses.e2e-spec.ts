import * as grpc from '@grpc/grpc-js';
import * as http2 from 'node:http2';
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

/** A List over plain HTTP/2: its messages, and how many DATA chunks carried them. */
async function rawList(address: string): Promise<{ messages: number; chunks: number; status: string | undefined }> {
  const session = http2.connect(`http://${address}`);
  try {
    return await new Promise((resolve, reject) => {
      const stream = session.request({ ':method': 'POST', ':path': '/blog_proto.PostController/List', 'content-type': 'application/grpc', te: 'trailers' });
      let pending = Buffer.alloc(0);
      let messages = 0;
      let chunks = 0;
      stream.on('data', (chunk: Buffer) => {
        chunks++;
        pending = Buffer.concat([pending, chunk]);
        while (pending.length >= 5 && pending.length >= 5 + pending.readUInt32BE(1)) {
          messages++;
          pending = pending.subarray(5 + pending.readUInt32BE(1));
        }
      });
      stream.on('trailers', (trailers) => resolve({ messages, chunks, status: trailers['grpc-status'] as string | undefined }));
      stream.on('error', reject);
      stream.end(Buffer.alloc(5)); // an empty ListRequest
    });
  } finally {
    session.close();
  }
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
