import * as grpc from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import fc from 'fast-check';
import { GrpcFrameworkServer } from 'nestjs-grpc-framework';
import type { RpcDefinition } from '../../lib/proto/proto-registry';
import { Post } from '../../sample/blog/post.entity';
import { Book } from '../../sample/bookstore/book.entity';
import { GrpcClient, RunningSample, startSample, unary } from '../utils/sample-app';

// Property-based: random inputs from a fixed seed, a bounded number of them, the same every run.
const SEED = 20261208;
/** What a server answers for bad input: never UNKNOWN or INTERNAL, which would mean it did not understand its own failure. */
const UNEXPECTED = new Set<number>([status.UNKNOWN, status.INTERNAL]);

interface Outcome {
  code: number;
  details: string;
}

describe('fuzzed requests to the sample', () => {
  let sample: RunningSample;
  let rpcs: RpcDefinition[];
  let token: string;

  beforeAll(async () => {
    sample = await startSample();
    const server = sample.app.get(GrpcFrameworkServer);
    rpcs = server.registry
      .serviceNames()
      .filter((name) => !name.startsWith('grpc.'))
      .flatMap((name) => server.registry.service(name)!.rpcs);
    token = await sample.login();
  });
  afterAll(() => sample.close());

  /** Sends `messages` as raw bytes to `rpc` (with the staff's token when `authorized`) and resolves with how the call ended. */
  function callWithBytes(rpc: RpcDefinition, messages: Buffer[], authorized: boolean): Promise<Outcome> {
    const Raw = grpc.makeGenericClientConstructor(
      {
        [rpc.name]: {
          path: rpc.path,
          requestStream: rpc.requestStream,
          responseStream: rpc.responseStream,
          requestSerialize: (bytes: Buffer) => bytes,
          requestDeserialize: (bytes: Buffer) => bytes,
          responseSerialize: (bytes: Buffer) => bytes,
          responseDeserialize: (bytes: Buffer) => bytes,
        },
      },
      'Raw',
    );
    const client = new Raw(sample.address, grpc.credentials.createInsecure()) as GrpcClient;
    const metadata = new grpc.Metadata();
    if (authorized) metadata.set('authorization', `Bearer ${token}`);
    const options = { deadline: Date.now() + 10_000 };
    return new Promise<Outcome>((resolve) => {
      const done = (error: grpc.ServiceError | null) => {
        client.close();
        resolve({ code: error?.code ?? status.OK, details: error?.details ?? '' });
      };
      const method = client[rpc.name] as Function;
      if (!rpc.requestStream && !rpc.responseStream) {
        method.call(client, messages[0], metadata, options, (error: grpc.ServiceError | null) => done(error));
      } else if (!rpc.requestStream) {
        const call = method.call(client, messages[0], metadata, options) as grpc.ClientReadableStream<Buffer>;
        call.on('data', () => undefined);
        call.on('error', done);
        call.on('end', () => done(null));
      } else {
        const call = (
          rpc.responseStream
            ? method.call(client, metadata, options)
            : method.call(client, metadata, options, (error: grpc.ServiceError | null) => done(error))
        ) as grpc.ClientWritableStream<Buffer> & grpc.ClientReadableStream<Buffer>;
        if (rpc.responseStream) {
          call.on('data', () => undefined);
          call.on('error', done);
          call.on('end', () => done(null));
        }
        for (const message of messages) call.write(message);
        call.end();
      }
    });
  }

  it('answers random bytes to every rpc with a status it chose, and keeps serving', async () => {
    const seen: string[] = [];
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: rpcs.length - 1 }),
        fc.array(fc.uint8Array({ maxLength: 64 }), { minLength: 1, maxLength: 3 }),
        fc.boolean(),
        async (which, messages, authorized) => {
          const rpc = rpcs[which]!;
          const outcome = await callWithBytes(rpc, messages.map(Buffer.from), authorized);
          seen.push(rpc.path);
          if (UNEXPECTED.has(outcome.code)) throw new Error(`${rpc.path} answered ${outcome.code} ${outcome.details}`);
        },
      ),
      { seed: SEED, numRuns: 300 },
    );
    // The runs reached most rpcs, and the server still answers as before.
    expect(new Set(seen).size).toBeGreaterThan(rpcs.length / 2);
    const posts = sample.client<GrpcClient>('blog_proto.PostController');
    const created = await unary<{ id: number }>(posts, 'Create', { title: 'still serving', content: 'after the fuzz' });
    expect(await unary(posts, 'Retrieve', { id: created.id })).toMatchObject({ title: 'still serving' });
  });

  it('validates random field values on Create without an unexpected status, and a refused write stores nothing', async () => {
    const posts = sample.client<GrpcClient>('blog_proto.PostController');
    const books = sample.client<GrpcClient>('bookstore.BookController', token);
    const text = fc.oneof(fc.string({ maxLength: 120 }), fc.string({ unit: 'grapheme', maxLength: 40 }), fc.constant(''));
    const count = async () => {
      const em = sample.orm.em.fork();
      return (await em.count(Post, {})) + (await em.count(Book, {}));
    };
    await fc.assert(
      fc.asyncProperty(
        fc.record({ title: text, content: text }),
        fc.record({
          title: text,
          isbn: fc.oneof(text, fc.stringMatching(/^\d{13}$/)),
          price: fc.oneof(text, fc.stringMatching(/^-?\d{1,8}\.\d{1,3}$/)),
          author_id: fc.option(fc.integer(), { nil: undefined }),
          in_stock: fc.boolean(),
        }),
        async (post, book) => {
          for (const [client, request] of [
            [posts, post],
            [books, book],
          ] as const) {
            const before = await count();
            const outcome = await unary(client, 'Create', request).then(
              () => ({ code: status.OK, details: '' }),
              (error: grpc.ServiceError) => ({ code: error.code, details: error.details }),
            );
            if (UNEXPECTED.has(outcome.code))
              throw new Error(`Create ${JSON.stringify(request)} answered ${outcome.code} ${outcome.details}`);
            if (outcome.code !== status.OK) expect(await count()).toBe(before);
          }
        },
      ),
      { seed: SEED, numRuns: 60 },
    );
  });
});
