// The tutorial's client: create, list, retrieve, update and delete a post on a running server.
//   npm run sample              (in one terminal)
//   npm run sample:client       (in another; pass an address to use another server)
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import * as path from 'node:path';
import { promisify } from 'node:util';

const PROTO_DIR = path.resolve(__dirname, __filename.endsWith('.ts') ? '.' : '../../sample', 'protos');

interface Post {
  id: number;
  title: string;
  content: string;
}

async function main(address: string): Promise<void> {
  const definition = protoLoader.loadSync(path.join(PROTO_DIR, 'blog_proto/post.proto'), {
    keepCase: true,
    defaults: true,
  });
  const blog = grpc.loadPackageDefinition(definition).blog_proto as grpc.GrpcObject;
  const PostController = blog.PostController as typeof grpc.Client;
  const stub = new PostController(address, grpc.credentials.createInsecure()) as grpc.Client &
    Record<string, (...args: unknown[]) => grpc.ClientReadableStream<Post>>;
  const call = <T>(method: string, request: object): Promise<T> =>
    promisify((req: object, cb: (e: Error | null, r: T) => void) => stub[method](req, cb))(request);

  console.log('----- Create -----');
  let response = await call<Post>('Create', { title: 't1', content: 'c1' });
  console.log(response);
  console.log('----- List -----');
  for await (const post of stub.List({})) console.log(post);
  console.log('----- Retrieve -----');
  response = await call<Post>('Retrieve', { id: response.id });
  console.log(response);
  console.log('----- Update -----');
  response = await call<Post>('Update', { id: response.id, title: 't2', content: 'c2' });
  console.log(response);
  console.log('----- Delete -----');
  await call('Destroy', { id: response.id });
  stub.close();
}

main(process.argv[2] ?? '127.0.0.1:50051').catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
