import { Code, ConnectError } from '@connectrpc/connect';
import * as http2 from 'node:http2';
import { gzipSync } from 'node:zlib';
import type { ServiceError } from '@grpc/grpc-js';
import { Metadata } from '@grpc/grpc-js';
import { GrpcFrameworkServer } from 'nestjs-grpc-framework';
import { Post } from '../../sample/blog/post.entity';
import { RunningSample, startSample } from '../utils/sample-app';
import { badRequestOf } from '../utils/status-details';
import { StreamStates } from '../utils/stream-states';
import { framesOf, postJson, WEB_PROTOCOLS, WebClient, webClient, WebProtocol } from '../utils/web-clients';

const ALLOWED_ORIGIN = 'https://books.example';
const MAX_REQUEST_BYTES = 64 * 1024;
const ROWS = 10_000;
// MikroORM's query log shows every statement, prepared ones included.
let logged: string[] | undefined;
let isbnCount = 0;
/** The SELECTs of posts logged since `logged` was reset. */
const postSelects = (): number => (logged ?? []).filter((line) => /select/.test(line) && line.includes('blog_post')).length;

/** The field violations of a web error, decoded from its `google.rpc.BadRequest` detail as a gRPC client decodes them. */
function violationsOf(error: ConnectError) {
  const detail = error.details.find((d) => 'type' in d && d.type === 'google.rpc.BadRequest') as
    { type: string; value: Uint8Array } | undefined;
  if (!detail) throw new Error(`no BadRequest detail on ${error.message}`);
  const bytes = encodeStatus(error.code, error.rawMessage, detail.value);
  const metadata = new Metadata();
  metadata.set('grpc-status-details-bin', bytes);
  return badRequestOf({ code: error.code as number, details: error.rawMessage, metadata } as ServiceError).violations;
}

/** A `google.rpc.Status` with one BadRequest detail, by hand (field 1 code, 2 message, 3 Any{1 type_url, 2 value}). */
function encodeStatus(code: number, message: string, badRequest: Uint8Array): Buffer {
  const bytesField = (field: number, value: Uint8Array) => Buffer.concat([Buffer.from([(field << 3) | 2]), varint(value.length), value]);
  const any = Buffer.concat([bytesField(1, Buffer.from('type.googleapis.com/google.rpc.BadRequest')), bytesField(2, badRequest)]);
  return Buffer.concat([Buffer.from([1 << 3]), varint(code), bytesField(2, Buffer.from(message)), bytesField(3, any)]);
}

function varint(n: number): Buffer {
  const bytes: number[] = [];
  while (n > 127) {
    bytes.push((n & 127) | 128);
    n >>>= 7;
  }
  bytes.push(n);
  return Buffer.from(bytes);
}

async function failureOf(promise: Promise<unknown>): Promise<ConnectError> {
  try {
    await promise;
  } catch (error) {
    return ConnectError.from(error);
  }
  throw new Error('the call succeeded');
}

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of stream) items.push(item);
  return items;
}

describe('gRPC-Web and Connect on the web address', () => {
  let sample: RunningSample;
  let server: GrpcFrameworkServer;

  beforeAll(async () => {
    sample = await startSample({
      database: { debug: ['query'], logger: (line: string) => logged?.push(line) },
      grpc: { web: { url: '127.0.0.1:0', cors: { origins: [ALLOWED_ORIGIN] } }, maxReceiveMessageLength: MAX_REQUEST_BYTES },
    });
    server = sample.app.get(GrpcFrameworkServer);
  });
  afterAll(() => sample.close());

  const cases: [WebProtocol, '1.1' | '2'][] = [
    ['connect+json', '1.1'],
    ['connect+proto', '2'],
    ['grpc-web+proto', '1.1'],
    ['grpc-web+json', '2'],
  ];
  expect(cases.map(([protocol]) => protocol).sort()).toEqual([...WEB_PROTOCOLS].sort());

  describe.each(cases)('%s over HTTP/%s', (protocol, httpVersion) => {
    let posts: WebClient;
    beforeAll(() => {
      posts = webClient(server, 'blog_proto.PostController', protocol, httpVersion);
    });

    it('creates, retrieves, lists (streamed), updates and destroys through the same handlers as gRPC', async () => {
      const created = await posts.create({ title: `Over ${protocol}`, content: 'From the web' });
      expect(created).toMatchObject({ title: `Over ${protocol}`, content: 'From the web' });
      expect(created.id).toBeGreaterThan(0);
      // gRPC sees what the web wrote.
      const grpc = sample.client('blog_proto.PostController');
      await expect(
        new Promise((resolve, reject) => grpc.Retrieve({ id: created.id }, (e: Error, r: unknown) => (e ? reject(e) : resolve(r)))),
      ).resolves.toMatchObject({
        title: `Over ${protocol}`,
      });

      expect(await posts.retrieve({ id: created.id })).toMatchObject({ id: created.id, title: `Over ${protocol}` });
      const listed = await collect(posts.list({}) as AsyncIterable<{ id: number }>);
      expect(listed.map((post) => post.id)).toContain(created.id);

      const updated = await posts.update({ id: created.id, title: 'Renamed', content: 'Changed' });
      expect(updated).toMatchObject({ id: created.id, title: 'Renamed', content: 'Changed' });

      await posts.destroy({ id: created.id });
      const missing = await failureOf(posts.retrieve({ id: created.id }));
      expect(missing.code).toBe(Code.NotFound);
      await expect(sample.orm.em.fork().count(Post, { id: created.id })).resolves.toBe(0);
    });

    it('answers a validation failure with INVALID_ARGUMENT and the same field violations as gRPC, storing nothing', async () => {
      const before = await sample.orm.em.fork().count(Post);
      const error = await failureOf(posts.create({ title: '', content: 'No title' }));
      expect(error.code).toBe(Code.InvalidArgument);
      expect(error.rawMessage).toBe('title: This field may not be blank.');
      expect(violationsOf(error)).toEqual([{ field: 'title', description: 'This field may not be blank.', reason: 'INVALID' }]);
      await expect(sample.orm.em.fork().count(Post)).resolves.toBe(before);
    });
  });

  describe('Connect JSON, as curl sends it', () => {
    it('follows the proto3 JSON mapping: lowerCamelCase out, both spellings in, Timestamp as RFC 3339, every field written', async () => {
      const token = await sample.login();
      const auth = { authorization: `Bearer ${token}` };
      const created = await postJson(
        server,
        '/bookstore.BookController/Create',
        {
          title: 'Dune',
          isbn: '9780441013593',
          author: { name: 'Frank Herbert' },
          published: '1965-08-01T00:00:00Z',
          price: '9.99',
          in_stock: true,
        },
        auth,
      );
      expect(created.status).toBe(200);
      expect(created.body).toMatchObject({
        title: 'Dune',
        published: '1965-08-01T00:00:00Z',
        price: '9.99',
        inStock: true,
        author: { name: 'Frank Herbert' },
      });
      expect(created.body).not.toHaveProperty('in_stock');
      expect(typeof created.body.authorId).toBe('number');

      const people = await postJson(server, '/hrm.PersonController/Create', { name: 'Ada', email: 'ada@example.com' });
      // A wrapper (google.protobuf.StringValue) is its bare value.
      const patched = await postJson(server, '/hrm.PersonController/PartialUpdate', { id: people.body.id, name: 'Ada Lovelace' });
      expect(patched).toMatchObject({ status: 200, body: { id: people.body.id, name: 'Ada Lovelace', email: 'ada@example.com' } });
    });

    it('writes the null pattern (a oneof of a value and NullValue) as proto3 JSON does, so generated JSON clients read it', async () => {
      const withNull = await postJson(server, '/snippets.SnippetController/Create', { title: 'No language', language: { null: null } });
      expect(withNull).toMatchObject({ status: 200, body: { title: 'No language', language: { null: null } } });
      const withValue = await postJson(server, '/snippets.SnippetController/Create', { title: 'Python', language: { value: 'py' } });
      expect(withValue).toMatchObject({ status: 200, body: { title: 'Python', language: { value: 'py' } } });
      const snippets = webClient(server, 'snippets.SnippetController', 'connect+json');
      const listed = await collect(
        snippets.list({}) as AsyncIterable<{ id: number; language?: { kind: { case?: string; value?: unknown } } }>,
      );
      expect(listed.find((s) => s.id === withNull.body.id)?.language?.kind.case).toBe('null');
      expect(listed.find((s) => s.id === withValue.body.id)?.language?.kind).toEqual({ case: 'value', value: 'py' });
      const stored = await sample.orm.em
        .fork()
        .getConnection()
        .execute('select language from snippets_snippet where id = ?', [withNull.body.id]);
      expect(stored[0].language).toBeNull();
    });

    it('answers errors with Connect JSON error bodies and HTTP statuses: details carry the field violations', async () => {
      const invalid = await postJson(server, '/blog_proto.PostController/Create', { title: '', content: 'x' });
      expect(invalid.status).toBe(400);
      expect(invalid.body).toEqual({
        code: 'invalid_argument',
        message: 'title: This field may not be blank.',
        details: [
          {
            type: 'google.rpc.BadRequest',
            value: expect.any(String),
            debug: { fieldViolations: [{ field: 'title', description: 'This field may not be blank.', reason: 'INVALID' }] },
          },
        ],
      });
      const missing = await postJson(server, '/blog_proto.PostController/Retrieve', { id: 987654 });
      expect(missing).toMatchObject({ status: 404, body: { code: 'not_found' } });
    });

    it('authenticates with the authorization header and checks permissions as gRPC does', async () => {
      const book = { title: 'Emma', isbn: '9780141439587', author: { name: 'Jane Austen' }, price: '7.50' };
      const anonymous = await postJson(server, '/bookstore.BookController/Create', book);
      expect(anonymous).toMatchObject({ status: 401, body: { code: 'unauthenticated' } });
      const forged = await postJson(server, '/bookstore.BookController/Create', book, { authorization: 'Bearer not-a-token' });
      expect(forged).toMatchObject({ status: 401, body: { code: 'unauthenticated' } });

      const member = await postJson(server, '/bookstore.MemberController/Create', {
        email: 'reader@example.com',
        name: 'Reader',
        password: 'a-long-password',
      });
      expect(member.status).toBe(200);
      expect(member.body).not.toHaveProperty('password');
      const login = await postJson(server, '/bookstore.AuthController/Login', { email: 'reader@example.com', password: 'a-long-password' });
      expect(login.status).toBe(200);
      const asMember = await postJson(server, '/bookstore.BookController/Create', book, {
        authorization: `Bearer ${login.body.token as string}`,
      });
      expect(asMember).toMatchObject({ status: 403, body: { code: 'permission_denied' } });
    });

    it('refuses bad requests with the protocol errors', async () => {
      const address = `http://${server.webAddress!}`;
      const wrongType = await fetch(`${address}/blog_proto.PostController/Retrieve`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: '{}',
      });
      expect(wrongType.status).toBe(415);

      const malformed = await postJson(server, '/blog_proto.PostController/Retrieve', '{"id": ');
      expect(malformed).toMatchObject({ status: 400, body: { code: 'invalid_argument' } });
      expect(malformed.body.message).toMatch(/json|JSON/);

      const unknownField = await postJson(server, '/blog_proto.PostController/Create', { title: 'x', content: 'y', colour: 'red' });
      expect(unknownField).toMatchObject({ status: 400, body: { code: 'invalid_argument' } });
      expect(unknownField.body.message).toContain('colour');

      const wrongValue = await postJson(server, '/blog_proto.PostController/Retrieve', { id: 'seven' });
      expect(wrongValue).toMatchObject({ status: 400, body: { code: 'invalid_argument' } });

      const badProto = await fetch(`${address}/blog_proto.PostController/Retrieve`, {
        method: 'POST',
        headers: { 'content-type': 'application/proto' },
        body: Buffer.from([0x08]), // a varint field with no value
      });
      expect(badProto.status).toBe(400);
      expect(await badProto.json()).toMatchObject({ code: 'invalid_argument' });

      const unknownRoute = await postJson(server, '/blog_proto.PostController/Publish', {});
      expect(unknownRoute.status).toBe(404);
      const unknownService = await postJson(server, '/nowhere.Service/Call', {});
      expect(unknownService.status).toBe(404);
    });

    it('refuses an integer in a JSON string that is not decimal ("0x1"), as proto3\'s JSON mapping says', async () => {
      const { id } = (await postJson(server, '/blog_proto.PostController/Create', { title: 'Decimal', content: 'only' })).body as {
        id: number;
      };
      expect(await postJson(server, '/blog_proto.PostController/Retrieve', { id: String(id) })).toMatchObject({
        status: 200,
        body: { id },
      });
      for (const spelling of [`0x${id.toString(16)}`, `0b${id.toString(2)}`, ` ${id}`]) {
        const refused = await postJson(server, '/blog_proto.PostController/Retrieve', { id: spelling });
        expect(refused).toMatchObject({ status: 400, body: { code: 'invalid_argument', message: expect.stringContaining('decimal') } });
      }
    });

    it('refuses a body over maxReceiveMessageLength before reading it whole', async () => {
      const content = 'x'.repeat(MAX_REQUEST_BYTES * 4);
      const before = await sample.orm.em.fork().count(Post);
      const declared = await postJson(server, '/blog_proto.PostController/Create', { title: 'Too big', content });
      expect(declared).toMatchObject({ status: 429, body: { code: 'resource_exhausted' } });
      // Without a content-length (chunked), the body is cut off at the limit as it arrives.
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(Buffer.from(JSON.stringify({ title: 'Too big', content })));
          controller.close();
        },
      });
      const chunked = await fetch(`http://${server.webAddress!}/blog_proto.PostController/Create`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        duplex: 'half',
      } as RequestInit);
      expect(chunked.status).toBe(429);
      await expect(sample.orm.em.fork().count(Post)).resolves.toBe(before);
    });
  });

  describe('timeouts and compression', () => {
    it('takes the deadline from connect-timeout-ms or grpc-timeout and refuses a malformed one', async () => {
      const malformed = await postJson(server, '/blog_proto.PostController/Retrieve', { id: 1 }, { 'connect-timeout-ms': 'soon' });
      expect(malformed).toMatchObject({
        status: 400,
        body: { code: 'invalid_argument', message: expect.stringContaining('connect-timeout-ms') },
      });
      const withTime = await postJson(server, '/blog_proto.PostController/Retrieve', { id: 987654 }, { 'connect-timeout-ms': '5000' });
      expect(withTime).toMatchObject({ status: 404, body: { code: 'not_found' } });
      const grpcWeb = await fetch(`http://${server.webAddress!}/blog_proto.PostController/Retrieve`, {
        method: 'POST',
        headers: { 'content-type': 'application/grpc-web+proto', 'grpc-timeout': 'later' },
        body: Buffer.from([0, 0, 0, 0, 2, 0x08, 1]),
      });
      const trailers = framesOf(Buffer.from(await grpcWeb.arrayBuffer()))
        .at(-1)!
        .data.toString();
      expect(trailers).toMatch(/grpc-status: 3\r\n/);
      expect(trailers).toContain('grpc-timeout');
    });

    it('reads a gzip-compressed request body', async () => {
      const body = gzipSync(Buffer.from(JSON.stringify({ title: 'Compressed', content: 'gzip' })));
      const response = await fetch(`http://${server.webAddress!}/blog_proto.PostController/Create`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
        body,
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ title: 'Compressed', content: 'gzip' });
      // A compressed protobuf body that does not decode is the client's mistake, as uncompressed.
      const malformed = await fetch(`http://${server.webAddress!}/blog_proto.PostController/Retrieve`, {
        method: 'POST',
        headers: { 'content-type': 'application/proto', 'content-encoding': 'gzip' },
        body: gzipSync(Buffer.from([0x08])),
      });
      const uncompressed = await fetch(`http://${server.webAddress!}/blog_proto.PostController/Retrieve`, {
        method: 'POST',
        headers: { 'content-type': 'application/proto' },
        body: Buffer.from([0x08]),
      });
      const refusal = (await uncompressed.json()) as Record<string, unknown>;
      expect(refusal).toMatchObject({ code: 'invalid_argument', message: expect.stringContaining('ends inside a varint') });
      expect(malformed.status).toBe(400);
      expect(await malformed.json()).toEqual(refusal);
    });
  });

  describe('gRPC-Web text (base64), as browsers without binary streams send it', () => {
    it('streams a List as base64 chunks that decode to frames and trailers', async () => {
      const response = await fetch(`http://${server.webAddress!}/blog_proto.PostController/List`, {
        method: 'POST',
        headers: { 'content-type': 'application/grpc-web-text', 'x-grpc-web': '1' },
        body: Buffer.from([0, 0, 0, 0, 0]).toString('base64'),
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/grpc-web-text+proto');
      const text = await response.text();
      // Chunks are padded base64 one after another; each decodes on its own.
      const bytes = Buffer.concat(text.match(/[^=]+=*/g)!.map((segment) => Buffer.from(segment, 'base64')));
      const frames = framesOf(bytes);
      expect(frames.length).toBeGreaterThan(1);
      expect(frames.slice(0, -1).every((frame) => frame.flags === 0)).toBe(true);
      expect(frames.at(-1)!.flags).toBe(0x80);
      expect(frames.at(-1)!.data.toString()).toMatch(/grpc-status: ?0/);
    });

    it('answers a unary call with the message and the trailers in base64 frames', async () => {
      const posts = webClient(server, 'blog_proto.PostController', 'connect+proto', '2');
      const created = await posts.create({ title: 'As text', content: 'Base64' });
      const request = Buffer.concat([Buffer.from([0, 0, 0, 0, 2]), Buffer.from([0x08, created.id])]);
      const response = await fetch(`http://${server.webAddress!}/blog_proto.PostController/Retrieve`, {
        method: 'POST',
        headers: { 'content-type': 'application/grpc-web-text', 'x-grpc-web': '1' },
        body: request.toString('base64'),
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/grpc-web-text+proto');
      const frames = framesOf(Buffer.from(await response.text(), 'base64'));
      expect(frames[0].flags).toBe(0);
      expect(frames[0].data.toString('latin1')).toContain('As text');
      expect(frames[1].flags).toBe(0x80);
      expect(frames[1].data.toString()).toMatch(/grpc-status: ?0/);
    });
  });

  describe('CORS', () => {
    const preflight = (origin: string) =>
      fetch(`http://${server.webAddress!}/blog_proto.PostController/Create`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,x-grpc-web,authorization',
        },
      });

    it("answers an allowed origin's preflight with the methods and headers gRPC-Web and Connect need", async () => {
      const response = await preflight(ALLOWED_ORIGIN);
      expect(response.status).toBe(204);
      expect(response.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
      expect(response.headers.get('access-control-allow-methods')).toContain('POST');
      const allowed = response.headers.get('access-control-allow-headers')!.toLowerCase();
      for (const header of ['content-type', 'x-grpc-web', 'authorization', 'connect-protocol-version', 'grpc-timeout'])
        expect(allowed).toContain(header);
    });

    it("exposes the status headers and trailers to an allowed origin's page", async () => {
      const response = await postJson(server, '/blog_proto.PostController/Retrieve', { id: 987654 }, { origin: ALLOWED_ORIGIN });
      expect(response.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
      const exposed = response.headers.get('access-control-expose-headers')!.toLowerCase();
      for (const header of ['grpc-status', 'grpc-message', 'grpc-status-details-bin']) expect(exposed).toContain(header);
    });

    it('gives a disallowed origin no CORS header at all', async () => {
      const response = await preflight('https://evil.example');
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
      expect(response.headers.get('access-control-allow-methods')).toBeNull();
      const call = await postJson(server, '/blog_proto.PostController/Retrieve', { id: 987654 }, { origin: 'https://evil.example' });
      expect(call.headers.get('access-control-allow-origin')).toBeNull();
      expect(call.headers.get('access-control-expose-headers')).toBeNull();
    });
  });

  describe('streams', () => {
    it('stops reading rows when the client aborts a List', async () => {
      const em = sample.orm.em.fork();
      for (let offset = 0; offset < ROWS; offset += 1000) {
        await em.insertMany(
          Post,
          Array.from({ length: 1000 }, (_, j) => ({ title: `Bulk ${offset + j}`, content: 'x', created: new Date() })),
        );
      }
      const posts = webClient(server, 'blog_proto.PostController', 'connect+json', '1.1');
      const abort = new AbortController();
      let received = 0;
      logged = [];
      const streams = new StreamStates('/blog_proto.PostController/List');
      try {
        const error = await failureOf(
          (async () => {
            for await (const _post of posts.list({}, { signal: abort.signal }) as AsyncIterable<unknown>) {
              if (++received === 10) abort.abort();
            }
          })(),
        );
        expect(error.cause).toBe(abort.signal.reason);
        expect(received).toBeLessThan(ROWS);
        // Once the server's List has ended it reads nothing more: 20 batches would be read to
        // the end; an aborted call stops after the few in flight.
        await streams.until('ended');
        expect(postSelects()).toBeGreaterThan(0);
        expect(postSelects()).toBeLessThan(ROWS / 500);
      } finally {
        logged = undefined;
        streams.close();
      }
    });

    it.each(cases)("sends a stream's trailing metadata (List's next-page-token) over %s", async (protocol, httpVersion) => {
      const token = await sample.login();
      for (const n of [1, 2]) {
        const isbn = String(9781100000000 + ++isbnCount);
        const created = await postJson(
          server,
          '/bookstore.BookController/Create',
          { title: `Paged ${protocol} ${n}`, isbn, author: { name: 'Pager' }, published: '2001-01-01T00:00:00Z', price: '1.00' },
          { authorization: `Bearer ${token}` },
        );
        expect(created.status).toBe(200);
      }
      const books = webClient(server, 'bookstore.BookController', protocol, httpVersion);
      let trailers: Headers | undefined;
      const page = await collect(
        books.list({ pageSize: 1, orderBy: 'id' }, { onTrailer: (t: Headers) => (trailers = t) }) as AsyncIterable<{ id: number }>,
      );
      expect(page).toHaveLength(1);
      expect(trailers?.get('next-page-token')).toEqual(expect.any(String));
    });

    it("ends a List at the deadline the client's timeout sets", async () => {
      const em = sample.orm.em.fork();
      await em.insertMany(
        Post,
        Array.from({ length: 5000 }, (_, i) => ({ title: `Timed ${i}`, content: 'x', created: new Date() })),
      );
      const response = await fetch(`http://${server.webAddress!}/blog_proto.PostController/List`, {
        method: 'POST',
        headers: { 'content-type': 'application/connect+json', 'connect-timeout-ms': '1' },
        body: Buffer.from([0, 0, 0, 0, 2, ...Buffer.from('{}')]),
      });
      const frames = framesOf(Buffer.from(await response.arrayBuffer()));
      expect(frames.filter((frame) => frame.flags === 0).length).toBeLessThan(await sample.orm.em.fork().count(Post));
      expect(frames.at(-1)!.flags).toBe(0x02);
      expect(JSON.parse(frames.at(-1)!.data.toString())).toMatchObject({ error: { code: 'deadline_exceeded' } });
    });

    it('holds a List while its client does not read (HTTP/2 flow control), then finishes it', async () => {
      const em = sample.orm.em.fork();
      const before = await em.count(Post);
      await em.insertMany(
        Post,
        Array.from({ length: 2000 }, (_, i) => ({ title: `Wide ${i}`, content: 'w'.repeat(2000), created: new Date() })),
      );
      const session = http2.connect(`http://${server.webAddress!}`);
      const streams = new StreamStates('/blog_proto.PostController/List');
      try {
        const stream = session.request({
          ':method': 'POST',
          ':path': '/blog_proto.PostController/List',
          'content-type': 'application/connect+proto',
        });
        stream.end(Buffer.from([0, 0, 0, 0, 0]));
        logged = [];
        const selects = postSelects;
        await new Promise((resolve) => stream.once('readable', resolve));
        // Not read: the server fills the flow-control window and its buffer, then waits, and
        // reads no more while it answers other calls.
        // A call that reads no post (the selects counted are of posts).
        const retrieve = async () =>
          expect((await postJson(server, '/bookstore.BookController/Retrieve', { id: 424242 })).status).toBe(404);
        await streams.untilStalled(retrieve);
        const stalled = selects();
        await retrieve();
        expect(streams.state().state).toBe('waiting');
        expect(selects()).toBe(stalled);
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        await new Promise((resolve) => stream.once('end', resolve));
        const frames = framesOf(Buffer.concat(chunks));
        expect(frames.filter((frame) => frame.flags === 0)).toHaveLength(before + 2000);
        expect(frames.at(-1)!.flags).toBe(0x02);
        expect(selects()).toBeGreaterThan(stalled);
      } finally {
        logged = undefined;
        streams.close();
        session.close();
      }
    });

    it('takes a client stream over Connect on HTTP/2 (BulkCreate)', async () => {
      const token = await sample.login();
      const books = webClient(server, 'bookstore.BookController', 'connect+proto', '2');
      async function* newBooks() {
        for (let i = 0; i < 3; i++)
          yield {
            title: `Streamed ${i}`,
            isbn: `97800000000${i}${i}`,
            author: { name: 'Anon' },
            published: { seconds: 0n },
            price: '1.00',
          };
      }
      const response = await books.bulkCreate(newBooks(), { headers: { authorization: `Bearer ${token}` } });
      expect(response.books.map((book: { title: string }) => book.title)).toEqual(['Streamed 0', 'Streamed 1', 'Streamed 2']);
    });
  });
});
