import * as grpc from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { Module } from '@nestjs/common';
import { GrpcError, GrpcFrameworkModule, GrpcModelService, Service } from 'nestjs-grpc-framework';
import { SHELF_PROTO } from '../fixtures/shelf.app';
import { serverErrorsDuring } from '../utils/captured-logs';
import * as net from 'node:net';
import { unary } from '../utils/sample-app';
import { startApp } from '../utils/start-app';
import { failureOf } from '../utils/status-details';

/** Calls another gRPC service that is down, and lets its error through, or propagates its status on purpose. */
@GrpcModelService('library.ShelfService')
class DownstreamShelfService extends Service {
  static downstream = '';

  async Open(request: { size: number }): Promise<object> {
    const client = new grpc.Client(DownstreamShelfService.downstream, grpc.credentials.createInsecure());
    try {
      await new Promise((resolve, reject) =>
        client.makeUnaryRequest(
          '/inventory.Stock/Count',
          (b: Buffer) => b,
          (b: Buffer) => b,
          Buffer.alloc(0),
          { deadline: Date.now() + 2000 },
          (error, value) => (error ? reject(error) : resolve(value)),
        ),
      );
    } catch (error) {
      if (request.size === 1) throw error; // as it came
      const failed = error as grpc.ServiceError;
      throw new GrpcError(failed.code, 'The stock service is unavailable.'); // on purpose
    } finally {
      client.close();
    }
    return {};
  }
}

@Module({
  imports: [GrpcFrameworkModule.forRoot({ protoPath: SHELF_PROTO, url: '127.0.0.1:0' })],
  controllers: [DownstreamShelfService],
})
class DownstreamAppModule {}

describe('an error from a downstream gRPC call made in a handler', () => {
  it('becomes INTERNAL, logged, never forwarded with its details; a status is propagated only on purpose', async () => {
    // A downstream that takes connections and drops them at once: its calls fail UNAVAILABLE,
    // and the port stays ours for the test (no other process can take it meanwhile).
    const refusing = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    DownstreamShelfService.downstream = `127.0.0.1:${(refusing.address() as net.AddressInfo).port}`;
    const running = await startApp(DownstreamAppModule);
    try {
      const shelves = running.client('library.ShelfService');
      let error: grpc.ServiceError | undefined;
      const logged = await serverErrorsDuring(async () => {
        error = await failureOf(unary(shelves, 'Open', { size: 1 }));
      });
      expect(error).toMatchObject({ code: status.INTERNAL, details: 'Internal server error' });
      expect(logged).toEqual([expect.stringContaining('/library.ShelfService/Open failed\nError: 14 UNAVAILABLE')]);
      await expect(failureOf(unary(shelves, 'Open', { size: 2 }))).resolves.toMatchObject({
        code: status.UNAVAILABLE,
        details: 'The stock service is unavailable.',
      });
    } finally {
      await running.close();
      await new Promise((resolve) => refusing.close(resolve));
    }
  });
});
