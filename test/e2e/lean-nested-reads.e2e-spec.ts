import { GrpcModelService, ModelProtoSerializer, ReadOnlyModelService } from 'nestjs-grpc-framework';
import { GrpcFrameworkServer } from '../../lib/module/grpc-framework.server';
import { internalsOf } from '../../lib/transport/server-internals';
import { Gadget, Maker } from '../fixtures/gadgets/gadget.entity';
import { gadgetProtos, startGadgetApp } from '../utils/gadget-app';

class MakerNameSerializer extends ModelProtoSerializer(Maker, { fields: ['id', 'name'] }) {}

class GadgetWithMakerSerializer extends ModelProtoSerializer(Gadget, {
  fields: ['id', 'name', 'maker', 'makerId'],
  fieldOptions: { maker: { serializer: MakerNameSerializer }, makerId: { source: 'maker' } },
}) {}

@GrpcModelService({ service: 'gadgets.NestedMakerController', serializer: GadgetWithMakerSerializer })
class LeanNestedService extends ReadOnlyModelService(Gadget) {}

@GrpcModelService({ service: 'gadgets.NestedMakerEntityController', serializer: GadgetWithMakerSerializer })
class EntityNestedService extends ReadOnlyModelService(Gadget) {
  override leanReads = false;
}

/** Nested to-one objects read as columns: the related rows by key, one query per page, no entities. */
describe('lean reads of nested objects', () => {
  const queries: string[] = [];
  let running: Awaited<ReturnType<typeof startGadgetApp>>;
  let gadgets: Gadget[];

  beforeAll(async () => {
    running = await startGadgetApp(
      [LeanNestedService, EntityNestedService],
      gadgetProtos('gadget-reads.proto', 'gadget-sources.proto'),
      queries,
    );
    const em = running.app.orm.em.fork();
    const makers = Array.from({ length: 7 }, (_, i) => em.create(Maker, { name: `maker ${i}` }));
    await em.flush();
    gadgets = Array.from({ length: 1200 }, (_, i) =>
      Object.assign(new Gadget(), { name: `g${i}`, maker: i % 10 === 9 ? null : makers[i % 7] }),
    );
    em.persist(gadgets);
    await em.flush();
  });
  afterAll(() => running.close());

  const list = async (service: string) => {
    const rows: Record<string, unknown>[] = [];
    for await (const row of running.app.client(service).List({}) as AsyncIterable<Record<string, unknown>>) rows.push(row);
    return rows;
  };
  const selectsOf = (table: string) => queries.filter((q) => /select/i.test(q) && new RegExp(`from .${table}.`).test(q));

  it('answers exactly as reading entities does, with and without a related object', async () => {
    const lean = await list('gadgets.NestedMakerController');
    expect(lean).toHaveLength(1200);
    expect(lean).toEqual(await list('gadgets.NestedMakerEntityController'));
    const withMaker = gadgets[3];
    expect(lean[3]).toEqual({
      id: withMaker.id,
      name: 'g3',
      maker: { id: withMaker.maker!.id, name: 'maker 3' },
      maker_id: withMaker.maker!.id,
    });
    expect(lean[9]).toEqual({ id: gadgets[9].id, name: 'g9' }); // no maker: neither field is set
    for (const gadget of [gadgets[3], gadgets[9]]) {
      const lookup = { id: gadget.id };
      await expect(running.app.client('gadgets.NestedMakerController').Retrieve(lookup)).resolves.toEqual(
        await running.app.client('gadgets.NestedMakerEntityController').Retrieve(lookup),
      );
    }
  });

  it('reads each page, then its related rows by key: two queries per page, no join, no entities', async () => {
    queries.length = 0;
    await list('gadgets.NestedMakerController');
    const gadgetSelects = selectsOf('gadget_gadget');
    const makerSelects = selectsOf('gadget_maker');
    // 1,200 rows in pages of at most 500: three pages, each with one query for its makers.
    expect(gadgetSelects).toHaveLength(3);
    expect(makerSelects).toHaveLength(3);
    expect(gadgetSelects.join('\n')).not.toMatch(/join|\.\*/i);
    expect(makerSelects[0]).toMatch(/ in \(/i);
    const report = internalsOf(running.app.module.get(GrpcFrameworkServer)).fastPathReport();
    expect(report).toEqual(
      expect.arrayContaining(['gadgets.NestedMakerController (LeanNestedService)', '  List: reads columns straight into messages']),
    );
  });

  it('loads entities when the nested serializer reads more than columns, and says why', async () => {
    class ComputingMakerSerializer extends MakerNameSerializer {
      protected override toRepresentation(maker: Maker) {
        return { ...super.toRepresentation(maker), name: maker.name.toUpperCase() };
      }
    }
    class Outer extends ModelProtoSerializer(Gadget, {
      fields: ['id', 'name', 'maker'],
      fieldOptions: { maker: { serializer: ComputingMakerSerializer } },
    }) {}
    @GrpcModelService({ service: 'gadgets.NestedMakerController', serializer: Outer })
    class ComputingService extends ReadOnlyModelService(Gadget) {}
    const other = await startGadgetApp([ComputingService], gadgetProtos('gadget-reads.proto', 'gadget-sources.proto'));
    try {
      expect(internalsOf(other.app.module.get(GrpcFrameworkServer)).fastPathReport()).toContain(
        '  List: loads entities (Outer sends nested objects (maker: ComputingMakerSerializer overrides toRepresentation))',
      );
    } finally {
      await other.close();
    }
  });
});
