import * as http from 'node:http';
import { GrpcFrameworkServer } from 'nestjs-grpc-framework';
import { Author } from '../../sample/bookstore/author.entity';
import { frame } from '../utils/raw-http2';
import { rawHttp2Post } from '../utils/raw-http2-frames';
import { RunningSample, startSample } from '../utils/sample-app';

/** Author { name = 2 } in protobuf's wire format. */
const authorMessage = (name: string) => Buffer.concat([Buffer.from([0x12, Buffer.byteLength(name)]), Buffer.from(name)]);
/** AuthorRetrieveRequest { id = 1 }. */
const retrieveMessage = (id: number) => Buffer.from([0x08, id]);
const GRPC = [
  ['content-type', 'application/grpc'],
  ['te', 'trailers'],
] as const;

/**
 * Node keeps only the first value of `authorization`, so a staff token followed by a forged one
 * would pass as the staff member; every address must see (and refuse) both.
 */
describe('duplicate authorization metadata', () => {
  let sample: RunningSample;
  let server: GrpcFrameworkServer;
  let staff: string;
  let grpcPort: number;
  let webPort: number;

  beforeAll(async () => {
    sample = await startSample({ grpc: { web: { url: '127.0.0.1:0' } } });
    server = sample.app.get(GrpcFrameworkServer);
    staff = `Bearer ${await sample.login()}`;
    grpcPort = server.port;
    webPort = Number(server.webAddress!.split(':').pop());
  });
  afterAll(() => sample.close());

  const authors = () => sample.orm.em.fork().count(Author, {});

  it('refuses two credentials on the gRPC address and writes nothing, while one is accepted', async () => {
    const before = await authors();
    const twice = await rawHttp2Post(
      grpcPort,
      '/bookstore.AuthorController/Create',
      [...GRPC, ['authorization', staff], ['authorization', 'Bearer forged']],
      frame(authorMessage('Twice')),
    );
    // Trailers-only: the call was refused before any response message.
    expect(twice.frames).toEqual(['HEADERS']);
    expect(await authors()).toBe(before);

    const once = await rawHttp2Post(
      grpcPort,
      '/bookstore.AuthorController/Create',
      [...GRPC, ['authorization', staff]],
      frame(authorMessage('Once')),
    );
    expect(once.frames).toEqual(['HEADERS', 'DATA', 'HEADERS']);
    expect(await authors()).toBe(before + 1);
    const id = once.body[6]; // the new author's id: frame header (5 bytes), tag 0x08, then the varint

    // Anyone may read an author; two credentials, even two good ones, are refused all the same.
    const anonymous = await rawHttp2Post(grpcPort, '/bookstore.AuthorController/Retrieve', GRPC, frame(retrieveMessage(id)));
    expect(anonymous.frames).toEqual(['HEADERS', 'DATA', 'HEADERS']);
    const sameTwice = await rawHttp2Post(
      grpcPort,
      '/bookstore.AuthorController/Retrieve',
      [...GRPC, ['authorization', staff], ['authorization', staff]],
      frame(retrieveMessage(id)),
    );
    expect(sameTwice.frames).toEqual(['HEADERS']);
  });

  it('refuses two credentials on the web address over HTTP/2, and writes nothing', async () => {
    const before = await authors();
    const headers = [
      ['content-type', 'application/json'],
      ['authorization', staff],
      ['authorization', 'Bearer forged'],
    ] as const;
    const answer = await rawHttp2Post(
      webPort,
      '/bookstore.AuthorController/Create',
      headers,
      Buffer.from(JSON.stringify({ name: 'Twice over h2' })),
    );
    expect(JSON.parse(answer.body.toString())).toEqual({ code: 'unauthenticated', message: 'Send one authorization credential, not 2.' });
    expect(await authors()).toBe(before);
  });

  it('refuses two credentials on the web address over HTTP/1.1, and writes nothing', async () => {
    const before = await authors();
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const request = http.request(
        { host: '127.0.0.1', port: webPort, method: 'POST', path: '/bookstore.AuthorController/Create' },
        (response) => {
          let body = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (body += chunk));
          response.on('end', () => resolve({ status: response.statusCode!, body }));
        },
      );
      request.on('error', reject);
      request.setHeader('content-type', 'application/json');
      request.setHeader('authorization', [staff, 'Bearer forged']); // two header lines
      request.end(JSON.stringify({ name: 'Twice over HTTP/1.1' }));
    });
    expect(answer.status).toBe(401);
    expect(JSON.parse(answer.body)).toEqual({ code: 'unauthenticated', message: 'Send one authorization credential, not 2.' });
    expect(await authors()).toBe(before);
  });
});
