import * as grpc from '@grpc/grpc-js';
import * as http2 from 'node:http2';
import { framedResponseWriterOf, http2ServersOf, http2StreamOf } from '../../lib/transport/grpc-js-internals';

// lib/transport/grpc-js-internals.ts reaches into @grpc/grpc-js's private call chain; this fails,
// naming the path, when an upgrade moves it.
describe('grpc-js internals the framework relies on', () => {
  it.each([
    ['without server interceptors', []],
    [
      'with a server interceptor',
      [(_options: unknown, call: grpc.ServerInterceptingCallInterface) => new grpc.ServerInterceptingCall(call)],
    ],
  ] as const)('a server call (%s) leads to its HTTP/2 stream through .call(.nextCall)*.stream', async (_name, interceptors) => {
    const server = new grpc.Server({ interceptors: [...interceptors] as grpc.ServerInterceptor[] });
    let found: http2.ServerHttp2Stream | undefined;
    server.addService(
      {
        Stream: {
          path: '/t.T/Stream',
          requestStream: false,
          responseStream: true,
          requestSerialize: (b: Buffer) => b,
          requestDeserialize: (b: Buffer) => b,
          responseSerialize: (b: Buffer) => b,
          responseDeserialize: (b: Buffer) => b,
        },
      },
      {
        Stream: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
          found = http2StreamOf(call);
          call.end();
        },
      },
    );
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, p) => (error ? reject(error) : resolve(p))),
    );
    const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    await new Promise<void>((resolve) => {
      const call = client.makeServerStreamRequest(
        '/t.T/Stream',
        (b: Buffer) => b,
        (b: Buffer) => b,
        Buffer.alloc(0),
      );
      call.on('data', () => undefined);
      call.on('status', () => resolve());
      call.on('error', () => resolve());
    });
    client.close();
    server.forceShutdown();
    expect(found?.constructor.name).toBe('ServerHttp2Stream');
  });

  const STREAM = {
    path: '/t.T/Stream',
    requestStream: false,
    responseStream: true,
    requestSerialize: (b: Buffer) => b,
    requestDeserialize: (b: Buffer) => b,
    responseSerialize: (b: Buffer) => b,
    responseDeserialize: (b: Buffer) => b,
  };

  async function serveOnce(interceptors: grpc.ServerInterceptor[], handler: (call: grpc.ServerWritableStream<Buffer, Buffer>) => void) {
    const server = new grpc.Server({ interceptors });
    server.addService({ Stream: STREAM }, { Stream: handler });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, p) => (error ? reject(error) : resolve(p))),
    );
    const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const received: { messages: string[]; headers?: grpc.Metadata; status?: grpc.StatusObject } = { messages: [] };
    await new Promise<void>((resolve) => {
      const call = client.makeServerStreamRequest(
        '/t.T/Stream',
        (b: Buffer) => b,
        (b: Buffer) => b,
        Buffer.alloc(0),
      );
      call.on('metadata', (headers: grpc.Metadata) => (received.headers = headers));
      call.on('data', (message: Buffer) => received.messages.push(message.toString()));
      call.on('status', (status: grpc.StatusObject) => {
        received.status = status;
        resolve();
      });
      call.on('error', () => undefined);
    });
    client.close();
    server.forceShutdown();
    return received;
  }

  it("a server call without server interceptors is grpc-js's BaseServerInterceptingCall (.call with .stream and .sendMetadata): framed messages written to its stream reach the client as messages, before the status", async () => {
    let writer: ReturnType<typeof framedResponseWriterOf>;
    const received = await serveOnce([], (call) => {
      writer = framedResponseWriterOf(call);
      const headers = new grpc.Metadata();
      headers.set('x-sent-by', 'handler');
      call.sendMetadata(headers);
      const frames = Buffer.from([0, 0, 0, 0, 3, ...Buffer.from('one'), 0, 0, 0, 0, 3, ...Buffer.from('two')]);
      expect(writer!.open).toBe(true);
      writer!.write(frames, () => call.end());
    });
    expect(writer!).toBeDefined();
    expect(received.headers?.get('x-sent-by')).toEqual(['handler']);
    expect(received.messages).toEqual(['one', 'two']);
    expect(received.status?.code).toBe(grpc.status.OK);
  });

  it('with a server interceptor the call is an interceptor chain: no framed writer, messages go through grpc-js', async () => {
    let writer: ReturnType<typeof framedResponseWriterOf> = undefined;
    let asked = false;
    await serveOnce([(_options, call) => new grpc.ServerInterceptingCall(call)], (call) => {
      writer = framedResponseWriterOf(call);
      asked = true;
      call.end();
    });
    expect(asked).toBe(true);
    expect(writer).toBeUndefined();
  });

  it('a bound server keeps its Node HTTP/2 servers as the keys of http2Servers', async () => {
    const server = new grpc.Server();
    expect(http2ServersOf(server)).toEqual([]);
    await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, p) => (error ? reject(error) : resolve(p))),
    );
    const servers = http2ServersOf(server);
    server.forceShutdown();
    expect(servers).toHaveLength(1);
    expect(servers[0]).toBeInstanceOf(http2.createServer().constructor);
  });
});
