import { createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import * as fs from 'node:fs';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import * as path from 'node:path';
import { GrpcFrameworkServer } from 'nestjs-grpc-framework';
import { RunningSample, startSample } from '../utils/sample-app';
import { webSchemas } from '../utils/web-clients';

const TLS = path.join(__dirname, '..', 'fixtures', 'tls');
const read = (file: string) => fs.readFileSync(path.join(TLS, file));

describe('the web address over TLS (web.tls)', () => {
  let sample: RunningSample;
  let server: GrpcFrameworkServer;

  beforeAll(async () => {
    sample = await startSample({ grpc: { web: { url: '127.0.0.1:0', tls: { key: read('server.key'), cert: read('server.crt') } } } });
    server = sample.app.get(GrpcFrameworkServer);
  });
  afterAll(() => sample.close());

  it('speaks HTTP/2 to clients that offer it (ALPN)', async () => {
    const session = http2.connect(`https://${server.webAddress!}`, { ca: read('ca.crt') });
    await new Promise((resolve) => session.once('connect', resolve));
    expect(session.alpnProtocol).toBe('h2');
    session.close();
    const transport = createConnectTransport({
      baseUrl: `https://${server.webAddress!}`,
      httpVersion: '2',
      useBinaryFormat: true,
      nodeOptions: { ca: read('ca.crt') },
    });
    const posts = createClient(webSchemas(server).getService('blog_proto.PostController')!, transport) as unknown as {
      create(request: object): Promise<{ id: number; title: string }>;
    };
    expect(await posts.create({ title: 'Over h2 with TLS', content: 'x' })).toMatchObject({ title: 'Over h2 with TLS' });
  });

  it('and HTTP/1.1 to those that do not (browsers over http/1.1, curl --http1.1)', async () => {
    const body = JSON.stringify({ title: 'Over HTTP/1.1 with TLS', content: 'y' });
    const answer = await new Promise<{ version: string; status: number; body: string }>((resolve, reject) => {
      const request = https.request(
        `https://${server.webAddress!}/blog_proto.PostController/Create`,
        { method: 'POST', ca: read('ca.crt'), headers: { 'content-type': 'application/json' } },
        (response) => {
          let text = '';
          response.on('data', (chunk) => (text += chunk));
          response.on('end', () => resolve({ version: response.httpVersion, status: response.statusCode!, body: text }));
        },
      );
      request.on('error', reject);
      request.end(body);
    });
    expect(answer).toMatchObject({ version: '1.1', status: 200 });
    expect(JSON.parse(answer.body)).toMatchObject({ title: 'Over HTTP/1.1 with TLS' });
  });
});
