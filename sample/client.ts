// The sample's client: the tutorial's flow on a post (create, list, retrieve, update, delete), then
// the bookstore's (staff log in and add an author and books, a member signs up and reviews, a filtered page).
//   npm run sample              (in one terminal)
//   npm run sample:client       (in another; pass an address to use another server)
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { getProtoPath } from 'google-proto-files';

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
  await bookstore(address);
}

/** The folder holding google/api/*.proto. */
const GOOGLE_PROTOS = path.dirname(getProtoPath());

type Stub = grpc.Client & Record<string, (...args: unknown[]) => grpc.ClientReadableStream<unknown>>;

/** The bookstore: logging in, nested authors, computed ratings, write-only passwords and List querying. */
async function bookstore(address: string): Promise<void> {
  // bookstore.proto imports google/api/annotations.proto (its HTTP routes): google-proto-files has it.
  const definition = protoLoader.loadSync(path.join(PROTO_DIR, 'bookstore.proto'), {
    keepCase: true,
    defaults: true,
    includeDirs: [GOOGLE_PROTOS],
  });
  const pkg = grpc.loadPackageDefinition(definition).bookstore as grpc.GrpcObject;
  const stubOf = (service: string) => new (pkg[service] as typeof grpc.Client)(address, grpc.credentials.createInsecure()) as Stub;
  const stubs = ['AuthController', 'AuthorController', 'BookController', 'ReviewController', 'MemberController'].map(stubOf);
  const [auth, authors, books, reviews, members] = stubs;
  /** Calls a unary rpc, as the holder of `token` when one is given. */
  const call = <T>(stub: Stub, method: string, request: object, token?: string): Promise<T> => {
    const metadata = new grpc.Metadata();
    if (token) metadata.set('authorization', `Bearer ${token}`);
    return promisify((req: object, cb: (e: Error | null, r: T) => void) => stub[method](req, metadata, cb))(request);
  };
  const login = async (email: string, password: string) => (await call<{ token: string }>(auth, 'Login', { email, password })).token;

  const run = Date.now().toString().slice(-9); // ISBNs and emails are unique: one run's differ from the last's
  console.log('----- Bookstore: staff log in; only staff may change the catalogue -----');
  const staff = await login(
    process.env.BOOKSTORE_STAFF_EMAIL ?? 'staff@bookstore.example',
    process.env.BOOKSTORE_STAFF_PASSWORD ?? 'staff-password',
  );
  console.log('----- Bookstore: Create an author and two books (the author comes back nested) -----');
  const author = await call<{ id: number }>(authors, 'Create', { name: 'Ursula K. Le Guin' }, staff);
  const published = { seconds: String(Date.UTC(1974, 4, 1) / 1000), nanos: 0 };
  const book = await call<{ id: number }>(
    books,
    'Create',
    { title: 'The Dispossessed', isbn: `9780${run}`, author_id: author.id, published, price: '9.99' },
    staff,
  );
  console.log(book);
  await call(books, 'Create', { title: 'The Lathe of Heaven', isbn: `9781${run}`, author_id: author.id, published, price: '12.50' }, staff);
  console.log('----- Bookstore: Create a book with a new author, in one call -----');
  console.log(
    await call(
      books,
      'Create',
      { title: 'Kindred', isbn: `9782${run}`, author: { name: 'Octavia E. Butler' }, published, price: '15.00' },
      staff,
    ),
  );
  console.log('----- Bookstore: a member signs up (the password is never sent back) and logs in -----');
  const email = `reader${run}@example.com`;
  console.log(await call(members, 'Create', { email, name: 'Reader', password: 'a long enough secret' }));
  const reader = await login(email, 'a long enough secret');
  console.log('----- Bookstore: the member reviews a book (average_rating is computed) -----');
  await call(reviews, 'Create', { book_id: book.id, rating: 5, text: 'Anarres!' }, reader);
  await call(reviews, 'Create', { book_id: book.id, rating: 4 }, reader);
  console.log(await call(books, 'Retrieve', { id: book.id }));
  console.log('----- Bookstore: ListPage, filtered and ordered (anyone may read) -----');
  console.log(await call(books, 'ListPage', { filter: `author_id = ${author.id} AND price < 20`, order_by: 'price desc', page_size: 1 }));
  for (const stub of stubs) stub.close();
}

main(process.argv[2] ?? '127.0.0.1:50051').catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
