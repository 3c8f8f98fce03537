import { createClient } from '@connectrpc/connect';
import type { Transport } from '@connectrpc/connect';
import { compressionBrotli, compressionGzip, createConnectTransport, createGrpcWebTransport } from '@connectrpc/connect-node';
import { Module } from '@nestjs/common';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { GrpcFrameworkModule, GrpcFrameworkServer } from 'nestjs-grpc-framework';
import { TallyService, WEB_STREAMS_PROTO } from '../fixtures/web-streams.app';
import { frame } from '../utils/raw-http2';
import { startApp } from '../utils/start-app';
import { framesOf, WEB_PROTOCOLS, WebClient, webSchemas, WebProtocol } from '../utils/web-clients';

const MAX_REQUEST_BYTES = 64 * 1024;

@Module({
  imports: [
    GrpcFrameworkModule.forRoot({
      protoPath: WEB_STREAMS_PROTO,
      url: '127.0.0.1:0',
      web: { url: '127.0.0.1:0' },
      maxReceiveMessageLength: MAX_REQUEST_BYTES,
    }),
  ],
  controllers: [TallyService],
})
class WebStreamsModule {}

/** Connect and gRPC-Web on the web address, for the calls that stream requests, compress them or use GET. */
describe('client and bidi streams, compressed bodies and GET on the web address', () => {
  let running: Awaited<ReturnType<typeof startApp>>;
  let server: GrpcFrameworkServer;
  let address: string;

  beforeAll(async () => {
    running = await startApp(WebStreamsModule);
    server = running.app.get(GrpcFrameworkServer);
    address = `http://${server.webAddress!}`;
  });
  afterAll(() => running.close());

  function transport(protocol: WebProtocol, httpVersion: '1.1' | '2', extra: Record<string, unknown> = {}): Transport {
    const options = { baseUrl: address, httpVersion, useBinaryFormat: protocol.endsWith('+proto'), ...extra };
    return protocol.startsWith('connect') ? createConnectTransport(options) : createGrpcWebTransport(options);
  }

  function tally(protocol: WebProtocol, httpVersion: '1.1' | '2', extra?: Record<string, unknown>): WebClient {
    return createClient(
      webSchemas(server).getService('webstreams.Tally')!,
      transport(protocol, httpVersion, extra),
    ) as unknown as WebClient;
  }

  async function* numbers(...values: number[]) {
    for (const value of values) yield { value };
  }

  describe.each(WEB_PROTOCOLS.flatMap((protocol) => (['1.1', '2'] as const).map((version) => [protocol, version] as const)))(
    '%s over HTTP/%s',
    (protocol, version) => {
      it('takes a client stream', async () => {
        await expect(tally(protocol, version).sum(numbers(1, 2, 3, 4, 5))).resolves.toMatchObject({ value: 15, count: 5 });
        await expect(tally(protocol, version).sum(numbers())).resolves.toMatchObject({ value: 0, count: 0 });
      });

      it('answers a bidi stream', async () => {
        const replies: number[] = [];
        for await (const reply of tally(protocol, version).double(numbers(1, 2, 3))) replies.push(reply.value);
        expect(replies).toEqual([2, 4, 6]);
      });
    },
  );

  it.each(['connect+proto', 'grpc-web+proto'] as const)(
    'hands each message of a %s bidi stream on HTTP/2 to the handler as it arrives',
    async (protocol) => {
      // Each number is sent only once the previous one's reply has come back: a server that
      // waited for the whole request body would never answer.
      let replied: () => void = () => undefined;
      async function* inTurn() {
        for (const value of [1, 2, 3]) {
          yield { value };
          await new Promise<void>((resolve) => (replied = resolve));
        }
      }
      const replies: number[] = [];
      for await (const reply of tally(protocol, '2').double(inTurn())) {
        replies.push(reply.value);
        replied();
      }
      expect(replies).toEqual([2, 4, 6]);
    },
  );

  describe('compressed request messages', () => {
    const note = 'x'.repeat(4000);

    it.each([
      ['gzip', compressionGzip],
      ['br', compressionBrotli],
    ] as const)('reads %s in unary calls and in each frame of a client stream', async (_name, compression) => {
      for (const protocol of WEB_PROTOCOLS) {
        const client = tally(protocol, '2', { sendCompression: compression, compressMinBytes: 0 });
        await expect(client.bump({ value: 1, note })).resolves.toMatchObject({ value: 2, note });
        async function* large() {
          for (const value of [1, 2]) yield { value, note };
        }
        await expect(client.sum(large())).resolves.toMatchObject({ value: 3, count: 2 });
      }
    });

    it('refuses a compression the server does not read, saying which it does', async () => {
      const unary = await fetch(`${address}/webstreams.Tally/Bump`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-encoding': 'zstd' },
        body: '{}',
      });
      expect(unary.status).toBe(501);
      expect(await unary.json()).toMatchObject({ code: 'unimplemented', message: expect.stringContaining('gzip, br') });
      const stream = await fetch(`${address}/webstreams.Tally/Sum`, {
        method: 'POST',
        headers: { 'content-type': 'application/connect+json', 'connect-content-encoding': 'zstd' },
        body: frame(Buffer.from('{}')),
      });
      const end = framesOf(Buffer.from(await stream.arrayBuffer())).at(-1)!;
      expect(end.flags).toBe(2);
      expect(JSON.parse(end.data.toString())).toMatchObject({ error: { code: 'unimplemented' } });
    });

    it('refuses a body that decompresses past maxReceiveMessageLength, and one that is not what it says', async () => {
      const zeros = Buffer.from(JSON.stringify({ note: '0'.repeat(MAX_REQUEST_BYTES * 4) }));
      for (const [encoding, body] of [
        ['gzip', gzipSync(zeros)],
        ['br', brotliCompressSync(zeros)],
      ] as const) {
        expect(body.length).toBeLessThan(MAX_REQUEST_BYTES);
        const bomb = await fetch(`${address}/webstreams.Tally/Bump`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-encoding': encoding },
          body,
        });
        expect(bomb.status).toBe(429);
        expect(await bomb.json()).toMatchObject({ code: 'resource_exhausted', message: expect.stringContaining('decompressed') });
      }
      const notGzip = await fetch(`${address}/webstreams.Tally/Bump`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
        body: '{"value": 1}',
      });
      expect(notGzip.status).toBe(400);
      expect(await notGzip.json()).toMatchObject({ code: 'invalid_argument', message: expect.stringContaining('gzip') });
    });
  });

  describe('refused request streams', () => {
    async function endOf(body: Buffer, headers: Record<string, string> = {}): Promise<Record<string, unknown>> {
      const response = await fetch(`${address}/webstreams.Tally/Sum`, {
        method: 'POST',
        headers: { 'content-type': 'application/connect+json', ...headers },
        body,
      });
      const end = framesOf(Buffer.from(await response.arrayBuffer())).at(-1)!;
      expect(end.flags).toBe(2);
      return JSON.parse(end.data.toString()) as Record<string, unknown>;
    }

    it('refuses a frame larger than maxReceiveMessageLength before reading it', async () => {
      const header = Buffer.from([0, 0, 0, 0, 0]);
      header.writeUInt32BE(MAX_REQUEST_BYTES + 1, 1);
      expect(await endOf(Buffer.concat([frame(Buffer.from('{"value": 1}')), header]))).toMatchObject({
        error: { code: 'resource_exhausted', message: expect.stringContaining('maxReceiveMessageLength') },
      });
    });

    it('refuses a body that ends inside a frame, a message that is not JSON for it, and a compressed frame without an encoding', async () => {
      const cut = frame(Buffer.from('{"value": 1}')).subarray(0, 8);
      expect(await endOf(cut)).toMatchObject({
        error: { code: 'invalid_argument', message: expect.stringContaining('inside a message frame') },
      });
      expect(await endOf(frame(Buffer.from('{"value": "one"}')))).toMatchObject({ error: { code: 'invalid_argument' } });
      expect(await endOf(frame(gzipSync(Buffer.from('{}')), 1))).toMatchObject({
        error: { code: 'invalid_argument', message: expect.stringContaining('compressed') },
      });
      // The same frame with its encoding named is a message.
      expect(await endOf(frame(gzipSync(Buffer.from('{"value": 4}')), 1), { 'connect-content-encoding': 'gzip' })).toEqual({});
    });

    it('answers a content type the rpc cannot take with 415', async () => {
      const unaryAsStream = await fetch(`${address}/webstreams.Tally/Bump`, {
        method: 'POST',
        headers: { 'content-type': 'application/connect+json' },
        body: frame(Buffer.from('{}')),
      });
      expect(unaryAsStream.status).toBe(415);
      const streamAsUnary = await fetch(`${address}/webstreams.Tally/Sum`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      expect(streamAsUnary.status).toBe(415);
    });
  });

  describe('Connect GET', () => {
    it('calls an rpc declared free of side effects, as connect-es does with useHttpGet', async () => {
      const client = tally('connect+proto', '1.1', { useHttpGet: true });
      await expect(client.peek({ value: 7, note: 'seen' })).resolves.toMatchObject({ value: 7, note: 'seen' });
      const json = await fetch(`${address}/webstreams.Tally/Peek?connect=v1&encoding=json&message=${encodeURIComponent('{"value":8}')}`);
      expect(json.status).toBe(200);
      expect(await json.json()).toEqual({ value: 8, note: '' });
      const compressed = gzipSync(Buffer.from('{"value":9}')).toString('base64url');
      const gzipped = await fetch(
        `${address}/webstreams.Tally/Peek?connect=v1&encoding=json&compression=gzip&base64=1&message=${compressed}`,
      );
      expect(await gzipped.json()).toEqual({ value: 9, note: '' });
      const message = Buffer.from([0x08, 0x0a, 0x12, 0x01, 0x61]); // value 10, note "a"
      const proto = await fetch(
        `${address}/webstreams.Tally/Peek?connect=v1&encoding=proto&base64=1&message=${message.toString('base64url')}`,
      );
      expect(proto.headers.get('content-type')).toBe('application/proto');
      expect(Buffer.from(await proto.arrayBuffer())).toEqual(message);
    });

    it('answers 405 for an rpc not declared free of side effects, and refuses a malformed message', async () => {
      const bump = await fetch(`${address}/webstreams.Tally/Bump?connect=v1&encoding=json&message=${encodeURIComponent('{"value":1}')}`);
      expect(bump.status).toBe(405);
      expect(bump.headers.get('allow')).toBe('POST');
      const malformed = await fetch(`${address}/webstreams.Tally/Peek?connect=v1&encoding=json&message=${encodeURIComponent('{"value":')}`);
      expect(malformed.status).toBe(400);
      expect(await malformed.json()).toMatchObject({ code: 'invalid_argument' });
    });
  });
});
