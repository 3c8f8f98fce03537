// grpc-js handlers that touch no database: the transport's limit on this machine.
// Usage: ceiling.js <port> <db file, unused> <rows List streams>
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { PAGE_SIZE, PAGES_PROTO, POST_PROTO, serveBenchControl } from '../common';

serveBenchControl();

const [port, , rows] = process.argv.slice(2);
const ROWS = Number(rows);
const POST = { id: 1, title: 'constant title', content: 'constant content' };

const definition = protoLoader.loadSync(POST_PROTO, { keepCase: true, defaults: true });
const pkg = grpc.loadPackageDefinition(definition) as unknown as { blog_proto: { PostController: { service: grpc.ServiceDefinition } } };
const server = new grpc.Server();
server.addService(pkg.blog_proto.PostController.service, {
  Retrieve: (call: grpc.ServerUnaryCall<{ id: number }, object>, callback: grpc.sendUnaryData<object>) =>
    callback(null, { ...POST, id: call.request.id }),
  Create: (call: grpc.ServerUnaryCall<object, object>, callback: grpc.sendUnaryData<object>) =>
    callback(null, { ...POST, ...call.request }),
  List: async (call: grpc.ServerWritableStream<object, object>) => {
    for (let i = 1; i <= ROWS && !call.cancelled; i++) {
      if (!call.write({ ...POST, id: i })) await new Promise((resolve) => call.once('drain', resolve));
    }
    call.end();
  },
  Update: (_call: unknown, callback: grpc.sendUnaryData<object>) => callback({ code: grpc.status.UNIMPLEMENTED }),
  Destroy: (_call: unknown, callback: grpc.sendUnaryData<object>) => callback({ code: grpc.status.UNIMPLEMENTED }),
});
const pages = grpc.loadPackageDefinition(protoLoader.loadSync(PAGES_PROTO, { keepCase: true, defaults: true })) as unknown as {
  bench_pages: { PostPages: { service: grpc.ServiceDefinition } };
};
const PAGE = { results: Array.from({ length: PAGE_SIZE }, (_, i) => ({ ...POST, id: i + 1 })), next_page_token: 'constant token' };
server.addService(pages.bench_pages.PostPages.service, {
  ListPage: (_call: unknown, callback: grpc.sendUnaryData<object>) => callback(null, PAGE),
});
server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), () => process.send?.('ready'));
process.on('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
