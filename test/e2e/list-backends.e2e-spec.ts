import { Metadata, status } from '@grpc/grpc-js';
import {
  AipFilterBackend,
  FilterBackend,
  GenericService,
  GrpcModelService,
  KeysetPagination,
  ListCall,
  ListModelMixin,
  ListNarrowing,
  ModelProtoSerializer,
  PageRequest,
  PagedListModelMixin,
} from 'nestjs-grpc-framework';
import { GrpcTestingApp, TestClient } from 'nestjs-grpc-framework/testing';
import { Gadget, GadgetColor } from '../fixtures/gadgets/gadget.entity';
import { gadgetProtos, startGadgetApp } from '../utils/gadget-app';

class GadgetSerializer extends ModelProtoSerializer(Gadget, { fields: ['id', 'name', 'weight', 'active'] }) {}

/** Narrows to active gadgets when the caller sends `x-active-only`: a filter backend reading the call, not the request. */
class ActiveOnlyBackend implements FilterBackend {
  narrowing(call: ListCall): ListNarrowing | undefined {
    if (!call.context.metadata.get('x-active-only').length) return undefined;
    return { where: () => ({ active: true }), key: 'active-only' };
  }
}

/** Pages of at most two rows, whatever the request asks: a pagination built on the default one. */
class PairPagination extends KeysetPagination {
  override page(call: ListCall, key: string, defaultSize: number | undefined): PageRequest {
    const page = super.page(call, key, defaultSize);
    return { ...page, size: Math.min(page.size ?? 2, 2) };
  }
}

@GrpcModelService({
  service: 'gadgets.QueryLeanController',
  serializer: GadgetSerializer,
  filterFields: { weight: ['<', '>='] },
  orderingFields: ['weight', 'id'],
  filterBackends: [new AipFilterBackend(), new ActiveOnlyBackend()],
})
class NarrowedService extends PagedListModelMixin(ListModelMixin(GenericService(Gadget))) {}

@GrpcModelService({ service: 'gadgets.QueryEntityController', serializer: GadgetSerializer, pagination: new PairPagination() })
class PairedService extends PagedListModelMixin(ListModelMixin(GenericService(Gadget))) {}

interface Page {
  results: { id: number; weight: number; active: boolean }[];
  next_page_token: string;
}

describe('List filter backends and pagination are the service’s to choose', () => {
  let running: Awaited<ReturnType<typeof startGadgetApp>>;
  let app: GrpcTestingApp;
  let narrowed: TestClient;
  let paired: TestClient;
  let gadgets: Gadget[];

  beforeAll(async () => {
    running = await startGadgetApp([NarrowedService, PairedService], gadgetProtos('gadget-reads.proto', 'gadget-query.proto'));
    app = running.app;
    narrowed = app.client('gadgets.QueryLeanController');
    paired = app.client('gadgets.QueryEntityController');
    const em = app.orm.em.fork();
    gadgets = Array.from({ length: 9 }, (_, i) =>
      em.create(Gadget, {
        name: `g${i}`,
        description: '',
        serial: String(i),
        price: '1.00',
        color: GadgetColor.Red,
        weight: i % 4,
        active: i % 3 !== 0,
      }),
    );
    await em.flush();
  });
  afterAll(() => running.close());

  const activeOnly = new Metadata();
  activeOnly.set('x-active-only', '1');

  it('ANDs every backend’s condition, and pages within them', async () => {
    const expected = gadgets.filter((g) => g.active && g.weight < 3).map((g) => g.id);
    const first = (await narrowed.ListPage({ filter: 'weight < 3', page_size: 2 }, activeOnly)) as Page;
    expect(first.results.map((g) => g.id)).toEqual(expected.slice(0, 2));
    const rest = (await narrowed.ListPage({ filter: 'weight < 3', page_size: 10, page_token: first.next_page_token }, activeOnly)) as Page;
    expect(rest.results.map((g) => g.id)).toEqual(expected.slice(2));
    const streamed: number[] = [];
    for await (const g of narrowed.List({}, activeOnly) as AsyncIterable<{ id: number }>) streamed.push(g.id);
    expect(streamed).toEqual(gadgets.filter((g) => g.active).map((g) => g.id));
  });

  it('binds page tokens to what every backend read', async () => {
    const page = (await narrowed.ListPage({ page_size: 2 }, activeOnly)) as Page;
    expect(page.next_page_token).not.toBe('');
    await expect(narrowed.ListPage({ page_size: 2, page_token: page.next_page_token })).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringMatching(/page_token/),
    });
  });

  it('pages as the service’s pagination says, and its tokens lead through every row', async () => {
    const ids: number[] = [];
    let token = '';
    let pages = 0;
    do {
      const page = (await paired.ListPage({ page_size: 50, page_token: token })) as Page;
      expect(page.results.length).toBeLessThanOrEqual(2);
      ids.push(...page.results.map((g) => g.id));
      token = page.next_page_token;
      pages++;
    } while (token);
    expect(ids).toEqual(gadgets.map((g) => g.id));
    expect(pages).toBe(5);
  });

  it('still refuses what the default backends refuse, naming the field', async () => {
    await expect(narrowed.ListPage({ filter: 'name = "g1"' })).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringMatching(/name/),
    });
  });
});
