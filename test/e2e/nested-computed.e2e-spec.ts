import { ComputedField, GrpcModelService, ModelProtoSerializer, ReadOnlyModelService } from 'nestjs-grpc-framework';
import { Gadget, Maker } from '../fixtures/gadgets/gadget.entity';
import { gadgetProtos, startGadgetApp } from '../utils/gadget-app';

/** A maker with the number of its gadgets, counted for a whole batch of makers in one query. */
class CountedMakerSerializer extends ModelProtoSerializer(Maker, { fields: ['id', 'name'] }) {
  @ComputedField({ kind: 'integer', batch: true })
  async gadgetCount(makers: readonly Maker[]): Promise<number[]> {
    const gadgets = await this.context.em!.find(
      Gadget,
      { maker: { $in: makers.map((maker) => maker.id) } },
      { fields: ['maker'], disableIdentityMap: true },
    );
    return makers.map((maker) => gadgets.filter((gadget) => gadget.maker?.id === maker.id).length);
  }
}

class GadgetSerializer extends ModelProtoSerializer(Gadget, {
  fields: ['id', 'name', 'maker'],
  fieldOptions: { maker: { serializer: CountedMakerSerializer } },
}) {}

@GrpcModelService({ service: 'gadgets.CountedMakerController', serializer: GadgetSerializer })
class CountedMakerService extends ReadOnlyModelService(Gadget) {}

/** Batch computed fields of a nested serializer run once per batch of the outer objects. */
describe('batch computed fields in nested serializers', () => {
  const queries: string[] = [];
  let running: Awaited<ReturnType<typeof startGadgetApp>>;
  let gadgets: Gadget[];

  beforeAll(async () => {
    running = await startGadgetApp([CountedMakerService], gadgetProtos('gadget-reads.proto', 'gadget-sources.proto'), queries);
    const em = running.app.orm.em.fork();
    const makers = Array.from({ length: 4 }, (_, i) => em.create(Maker, { name: `maker ${i}` }));
    await em.flush();
    // Gadget j belongs to maker j % 4, except every fifth, which has none.
    gadgets = Array.from({ length: 700 }, (_, j) =>
      Object.assign(new Gadget(), { name: `g${j}`, maker: j % 5 === 4 ? null : makers[j % 4] }),
    );
    em.persist(gadgets);
    await em.flush();
  });
  afterAll(() => running.close());

  const expectedCount = (makerIndex: number) => gadgets.filter((_, j) => j % 5 !== 4 && j % 4 === makerIndex).length;

  it('sends the nested computed value, computed in one query per List batch', async () => {
    queries.length = 0;
    const rows: Record<string, unknown>[] = [];
    for await (const row of running.app.client('gadgets.CountedMakerController').List({}) as AsyncIterable<Record<string, unknown>>)
      rows.push(row);
    expect(rows).toHaveLength(700);
    expect(rows[1]).toEqual({
      id: gadgets[1].id,
      name: 'g1',
      maker: { id: gadgets[1].maker!.id, name: 'maker 1', gadget_count: expectedCount(1) },
    });
    expect(rows[4]).toEqual({ id: gadgets[4].id, name: 'g4' });
    // 700 gadgets in batches of 500: two batches, so two counting queries (they select only the maker column).
    const counting = queries.filter((q) => /select .*maker_id.* from .gadget_gadget./i.test(q) && / in \(/i.test(q));
    expect(counting).toHaveLength(2);
  });

  it('computes it for Retrieve too', async () => {
    await expect(running.app.client('gadgets.CountedMakerController').Retrieve({ id: gadgets[2].id })).resolves.toEqual({
      id: gadgets[2].id,
      name: 'g2',
      maker: { id: gadgets[2].maker!.id, name: 'maker 2', gadget_count: expectedCount(2) },
    });
  });
});
