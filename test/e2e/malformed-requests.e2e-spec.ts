import * as grpc from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { GrpcFrameworkServer } from 'nestjs-grpc-framework';
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

describe('requests are read as the official protobuf runtimes read them', () => {
  let sample: RunningSample;
  beforeAll(async () => {
    sample = await startSample();
  });
  afterAll(() => sample.close());

  it('refuses a Post whose appended bytes end a group that never started, storing nothing', async () => {
    // title "t", content "c", then 10 05 (title as a varint: an unknown field) 68 65 (field 13 = 0x65) 6c (an end-group tag).
    await expect(rawUnary(sample.address, CREATE, Buffer.from('1201741a0163100568656c6c6f', 'hex'))).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringContaining('end-group tag'),
    });
    expect(await sample.orm.em.fork().count(Post, {})).toBe(0);
  });

  it('ignores a known field sent with another wire type, instead of reading it as that field', async () => {
    // title "t", content "c", then title again as a varint (10 05): an unknown field, so the title stays "t".
    const reply = await rawUnary(sample.address, CREATE, Buffer.from('1201741a01631005', 'hex'));
    const post = sample.app.get(GrpcFrameworkServer).registry.codec('blog_proto.Post').decode(reply);
    expect(post).toMatchObject({ title: 't', content: 'c' });
  });

  it('reads a 6-byte varint whole, so the fields after it are not swallowed', async () => {
    const snippets = sample.client('snippets.SnippetController');
    const created = await unary<{ id: number }>(snippets, 'Create', { title: 's', language: { value: 'python' } });
    // Update: id as a 6-byte varint, language = null (1a 02 10 00), title "varint2".
    const id = Buffer.from([(created.id & 0x7f) | 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]);
    const bytes = Buffer.concat([
      Buffer.from([0x08]),
      id,
      Buffer.from('1a021000', 'hex'),
      Buffer.from([0x12, 0x07]),
      Buffer.from('varint2'),
    ]);
    await rawUnary(sample.address, '/snippets.SnippetController/Update', bytes);
    await expect(unary(snippets, 'Retrieve', { id: created.id })).resolves.toMatchObject({
      title: 'varint2',
      language: { null: 'NULL_VALUE', kind: 'null' },
    });
  });
});
