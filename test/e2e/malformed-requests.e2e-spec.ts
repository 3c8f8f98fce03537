import * as grpc from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { Post } from '../../sample/blog/post.entity';
import { RunningSample, startSample, unary } from '../utils/sample-app';

/** Sends raw bytes to a method path, bypassing any client-side encoding. */
function rawUnary(address: string, path: string, bytes: Buffer): Promise<Buffer> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure(), {
    'grpc.max_send_message_length': -1,
  });
  return new Promise<Buffer>((resolve, reject) => {
    client.makeUnaryRequest(
      path,
      (b: Buffer) => b,
      (b: Buffer) => b,
      bytes,
      (error, response) => {
        client.close();
        if (error) reject(error);
        else resolve(response!);
      },
    );
  });
}

const CREATE = '/blog_proto.PostController/Create';

describe('malformed requests', () => {
  let sample: RunningSample;

  beforeAll(async () => {
    sample = await startSample();
  });
  afterAll(() => sample.close());
  afterEach(async () => {
    // The server is still up and nothing was stored.
    await expect(unary(sample.client('blog_proto.PostController'), 'Retrieve', { id: 1 })).rejects.toMatchObject({
      code: status.NOT_FOUND,
    });
    expect(await sample.orm.em.fork().count(Post, {})).toBe(0);
  });

  it('refuses a truncated field with INVALID_ARGUMENT', async () => {
    // title (field 2, length-delimited) claims 10 bytes but carries 3.
    const bytes = Buffer.from([0x12, 0x0a, 0x61, 0x62, 0x63]);
    await expect(rawUnary(sample.address, CREATE, bytes)).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringContaining('not a valid blog_proto.Post message'),
    });
  });

  it('refuses an invalid wire type with INVALID_ARGUMENT', async () => {
    await expect(rawUnary(sample.address, CREATE, Buffer.from([0x0f, 0x01]))).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
    });
  });

  it('refuses invalid UTF-8 in a string field instead of storing it mangled', async () => {
    // title = 0xC3 0x28 (an invalid two-byte sequence), content = "ok"
    const bytes = Buffer.from([0x12, 0x02, 0xc3, 0x28, 0x1a, 0x02, 0x6f, 0x6b]);
    await expect(rawUnary(sample.address, CREATE, bytes)).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringContaining('invalid UTF-8'),
    });
  });

  it('refuses an oversized message with RESOURCE_EXHAUSTED', async () => {
    const content = Buffer.alloc(5 * 1024 * 1024, 0x61);
    const header = Buffer.from([0x12, 0x01, 0x74, 0x1a, 0x80, 0x80, 0xc0, 0x02]); // title "t", content length 5 MiB
    await expect(rawUnary(sample.address, CREATE, Buffer.concat([header, content]))).rejects.toMatchObject({
      code: status.RESOURCE_EXHAUSTED,
    });
  });

  it('answers unknown methods and services with UNIMPLEMENTED', async () => {
    await expect(rawUnary(sample.address, '/blog_proto.PostController/Publish', Buffer.alloc(0))).rejects.toMatchObject({
      code: status.UNIMPLEMENTED,
    });
    await expect(rawUnary(sample.address, '/blog_proto.Nope/Create', Buffer.alloc(0))).rejects.toMatchObject({
      code: status.UNIMPLEMENTED,
    });
  });
});
