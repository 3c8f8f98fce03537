import * as grpc from '@grpc/grpc-js';
import { CallHandler, ExecutionContext, Injectable, NestInterceptor, UseInterceptors } from '@nestjs/common';
import { CallContext, GenericService, GrpcModelService, ListModelMixin, RetrieveModelMixin } from 'nestjs-grpc-framework';
import { filter, map, Observable, tap } from 'rxjs';
import { Gadget } from '../fixtures/gadgets/gadget.entity';
import { GadgetNameSerializer } from '../fixtures/gadgets/maker.serializers';
import { Served, serveTwice } from '../utils/served-twice';
import { StreamStates } from '../utils/stream-states';

const ROWS = 20_000;

/** Counts the messages it sees and shouts their names; with `x-odd-only`, drops the even ids. */
@Injectable()
class ShoutingInterceptor implements NestInterceptor {
  /** Static: Nest makes the instance of an enhancer named by class. */
  static seen = 0;
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const oddOnly = context.switchToRpc().getContext<CallContext>().metadata.get('x-odd-only').length > 0;
    return next.handle().pipe(
      tap(() => ShoutingInterceptor.seen++),
      filter((gadget: { id: number; name: string }) => !oddOnly || gadget.id % 2 === 1),
      map((gadget: { id: number; name: string }) => ({ ...gadget, name: gadget.name.toUpperCase() })),
    );
  }
}

@UseInterceptors(ShoutingInterceptor)
@GrpcModelService({ service: 'gadgets.LeanController', serializer: GadgetNameSerializer, listBatchSize: 200 })
class ShoutedGadgetService extends ListModelMixin(RetrieveModelMixin(GenericService(Gadget, { orderBy: { id: 'asc' } }))) {}

describe('interceptors see a server stream message by message, over a socket and in process', () => {
  let served: Served;

  beforeAll(async () => {
    served = await serveTwice([ShoutedGadgetService], {
      service: 'gadgets.LeanController',
      seed: async (em) => {
        await em.insertMany(
          Gadget,
          Array.from({ length: ROWS }, (_, i) => ({ id: i + 1, name: `gadget ${i + 1}` })),
        );
      },
    });
  }, 60_000);
  afterAll(() => served.close());

  const list = (client: Served['clients']['socket'], metadata = new grpc.Metadata()) =>
    client.List({}, metadata) as grpc.ClientReadableStream<{ id: number; name: string }>;

  it.each(['socket', 'inProcess'] as const)('map and tap apply to each message (%s)', async (way) => {
    ShoutingInterceptor.seen = 0;
    const gadgets = await list(served.clients[way]).toArray();
    expect(gadgets).toHaveLength(ROWS);
    expect(gadgets[41]).toMatchObject({ id: 42, name: 'GADGET 42' });
    expect(ShoutingInterceptor.seen).toBe(ROWS);
  });

  it.each(['socket', 'inProcess'] as const)('a filter that drops messages does not stall the stream (%s)', async (way) => {
    const metadata = new grpc.Metadata();
    metadata.set('x-odd-only', '1');
    const gadgets = await list(served.clients[way], metadata).toArray();
    expect(gadgets).toHaveLength(ROWS / 2);
    expect(gadgets.every((g) => g.id % 2 === 1)).toBe(true);
  });

  it.each(['socket', 'inProcess'] as const)('keeps backpressure: a client that stops reading stops the reads (%s)', async (way) => {
    ShoutingInterceptor.seen = 0;
    const streams = new StreamStates('/gadgets.LeanController/List');
    const call = list(served.clients[way]);
    call.on('error', () => undefined); // cancelled below
    const first = await new Promise((resolve) => call.once('data', resolve));
    expect(first).toMatchObject({ id: 1 });
    call.pause();
    const retrieve = () =>
      new Promise((resolve, reject) =>
        served.clients[way].Retrieve({ id: 7 }, (error: Error | null, gadget: unknown) => (error ? reject(error) : resolve(gadget))),
      );
    try {
      // The server goes on until what the transport and the client hold is full (the client
      // reads from its socket a while after pause()), then waits for good.
      await streams.untilStalled(retrieve);
      const whilePaused = ShoutingInterceptor.seen;
      const { resumes } = streams.state();
      // Reading stopped short of the end, and does not go on while the client waits (the
      // interceptor sees the Retrieve answered meanwhile, once).
      expect(whilePaused).toBeLessThan(ROWS / 2);
      await retrieve();
      expect(streams.state()).toEqual({ state: 'waiting', resumes });
      expect(ShoutingInterceptor.seen).toBe(whilePaused + 1);
    } finally {
      streams.close();
    }
    call.cancel();
  });
});
