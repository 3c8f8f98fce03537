import * as path from 'node:path';
import { MikroOrmModule } from '@mikro-orm/nestjs';
import type { EventArgs, EventSubscriber, Options } from '@mikro-orm/core';
import { GrpcFrameworkModule, GrpcModelService, ModelProtoSerializer, Queryset, ReadOnlyModelService } from 'nestjs-grpc-framework';
import { GrpcTestingApp } from 'nestjs-grpc-framework/testing';
import { Gadget, GadgetColor, Maker, Tag } from '../fixtures/gadgets/gadget.entity';
import { testDatabase } from '../utils/test-database';

// Every column kind except the m:n tags, which need entities: these reads go the lean way.
const COLUMNS = [
  'id',
  'name',
  'description',
  'serial',
  'weight',
  'price',
  'active',
  'releasedAt',
  'nickname',
  'rank',
  'color',
  'specs',
  'maker',
];

class GadgetColumnsSerializer extends ModelProtoSerializer(Gadget, { fields: COLUMNS }) {}
class GadgetWithTagsSerializer extends ModelProtoSerializer(Gadget, { fields: ['id', 'name', 'tags'] }) {}

@GrpcModelService({ service: 'gadgets.LeanController', serializer: GadgetColumnsSerializer })
class LeanGadgetService extends ReadOnlyModelService(Gadget, { orderBy: { serial: 'desc' } }) {}

@GrpcModelService({ service: 'gadgets.EntityController', serializer: GadgetColumnsSerializer })
class EntityGadgetService extends ReadOnlyModelService(Gadget, { orderBy: { serial: 'desc' } }) {
  override leanReads = false;
}

@GrpcModelService({ service: 'gadgets.FilteredController', serializer: GadgetColumnsSerializer })
class FilteredGadgetService extends ReadOnlyModelService(Gadget, { where: { active: true } }) {}

@GrpcModelService({ service: 'gadgets.DynamicController', serializer: GadgetColumnsSerializer })
class DynamicGadgetService extends ReadOnlyModelService(Gadget) {
  override getQueryset(): Queryset<Gadget> {
    return { ...super.getQueryset(), where: { color: GadgetColor.Blue } };
  }
}

@GrpcModelService({ service: 'gadgets.TaggedController', serializer: GadgetWithTagsSerializer })
class TaggedGadgetService extends ReadOnlyModelService(Gadget) {}

const PROTO = path.join(__dirname, '..', 'fixtures', 'gadgets', 'gadget-reads.proto');

describe('lean reads: Retrieve and List without entities', () => {
  const queries: string[] = [];
  let app: GrpcTestingApp;
  let db: ReturnType<typeof testDatabase>;
  let ids: number[];

  async function start(extra: Partial<Options> = {}): Promise<void> {
    db = testDatabase();
    app = await GrpcTestingApp.create(
      {
        imports: [
          MikroOrmModule.forRoot({ ...db.options, entities: [Gadget, Maker, Tag], registerRequestContext: false, ...extra }),
          GrpcFrameworkModule.forRoot({ protoPath: PROTO }),
        ],
        controllers: [LeanGadgetService, EntityGadgetService, FilteredGadgetService, DynamicGadgetService, TaggedGadgetService],
      },
      { schema: 'create', isolation: 'none' },
    );
    const em = app.orm.em.fork();
    const acme = em.create(Maker, { name: 'acme' });
    const tag = em.create(Tag, { label: 'new' });
    const full = em.create(Gadget, {
      name: 'widget',
      description: 'a widget',
      serial: '9007199254740993',
      weight: 1.25,
      price: '12.34',
      active: true,
      releasedAt: new Date('2024-03-04T05:06:07.000Z'),
      nickname: 'w',
      rank: 3,
      color: GadgetColor.Blue,
      specs: { volts: 5, tags: ['a'], nested: { ok: true } },
      maker: acme,
    });
    full.tags.add(tag);
    const sparse = Object.assign(new Gadget(), { name: 'plain', active: false, serial: '-5' }); // defaults elsewhere
    em.persist(sparse);
    await em.flush();
    ids = [full.id, sparse.id];
  }

  afterEach(async () => {
    await app?.close();
    await db?.dispose();
    queries.length = 0;
  });

  it('answers exactly as reading entities does, for every column kind', async () => {
    await start();
    const lean = app.client('gadgets.LeanController');
    const entity = app.client('gadgets.EntityController');
    for (const id of ids) {
      const message = await lean.Retrieve({ id });
      expect(message).toEqual(await entity.Retrieve({ id }));
    }
    const full = await lean.Retrieve({ id: ids[0] });
    expect(full).toMatchObject({
      serial: '9007199254740993',
      price: '12.34',
      active: true,
      released_at: new Date('2024-03-04T05:06:07Z'),
      color: 'GADGET_COLOR_BLUE',
      maker: expect.any(Number),
    });
    const sparse = await lean.Retrieve({ id: ids[1] });
    expect(sparse).toMatchObject({ serial: '-5', active: false });
    expect(sparse).not.toHaveProperty('maker');
    expect(sparse).not.toHaveProperty('rank');

    const collect = async (client: ReturnType<GrpcTestingApp['client']>) => {
      const rows: unknown[] = [];
      for await (const row of client.List({}) as AsyncIterable<unknown>) rows.push(row);
      return rows;
    };
    const listed = await collect(lean);
    expect(listed).toEqual(await collect(entity));
    expect(listed).toEqual([full, sparse]); // ordered by serial, descending
  });

  it("applies the service's base filter, and answers NOT_FOUND outside it", async () => {
    await start();
    const filtered = app.client('gadgets.FilteredController');
    await expect(filtered.Retrieve({ id: ids[0] })).resolves.toMatchObject({ name: 'widget' });
    await expect(filtered.Retrieve({ id: ids[1] })).rejects.toMatchObject({ code: 5, details: `Gadget: ${ids[1]} not found` });
    await expect(filtered.Retrieve({ id: 999 })).rejects.toMatchObject({ code: 5 });
    const names: unknown[] = [];
    for await (const row of filtered.List({}) as AsyncIterable<{ name: string }>) names.push(row.name);
    expect(names).toEqual(['widget']);
  });

  it("selects only the serializer's columns, and loads entities when a hook or the serializer needs them", async () => {
    // A query logger makes MikroORM run every statement, so the SQL can be read.
    await start({ debug: ['query'], logger: (line: string) => queries.push(line) });
    const select = () => queries.filter((q) => /select/i.test(q) && /gadget_gadget/.test(q)).join('\n');
    const everyColumn = /\.\*/; // `select g0.*`: what loading an entity reads

    await app.client('gadgets.LeanController').Retrieve({ id: ids[0] });
    expect(select()).toMatch(/released_at/);
    expect(select()).not.toMatch(everyColumn);
    queries.length = 0;
    for await (const row of app.client('gadgets.LeanController').List({}) as AsyncIterable<unknown>) expect(row).toBeDefined();
    expect(select()).toMatch(/released_at.*order by/);
    expect(select()).not.toMatch(everyColumn);

    queries.length = 0;
    await app.client('gadgets.EntityController').Retrieve({ id: ids[0] });
    expect(select()).toMatch(everyColumn);

    queries.length = 0;
    // getQueryset overridden: the hook decides per call, so the entity path runs it.
    await expect(app.client('gadgets.DynamicController').Retrieve({ id: ids[0] })).resolves.toMatchObject({ name: 'widget' });
    await expect(app.client('gadgets.DynamicController').Retrieve({ id: ids[1] })).rejects.toMatchObject({ code: 5 });
    expect(select()).toMatch(everyColumn);

    queries.length = 0;
    // The tags collection needs entities.
    await expect(app.client('gadgets.TaggedController').Retrieve({ id: ids[0] })).resolves.toMatchObject({ tags: [expect.any(Number)] });
    expect(select()).toMatch(everyColumn);
  });

  it('keeps MikroORM filters and onLoad subscribers working: those entities are loaded', async () => {
    const loaded: string[] = [];
    const subscriber: EventSubscriber<Gadget> = {
      getSubscribedEntities: () => [Gadget],
      onLoad: (args: EventArgs<Gadget>) => void loaded.push(args.entity.name),
    };
    await start({ subscribers: [subscriber] });
    await expect(app.client('gadgets.LeanController').Retrieve({ id: ids[0] })).resolves.toMatchObject({ name: 'widget' });
    expect(loaded).toEqual(['widget']);
    await app.close();
    await db.dispose();

    // A default filter hides inactive gadgets from every read, lean or not.
    await start({ filters: { active: { cond: { active: true }, default: true, entity: ['Gadget'] } } });
    const lean = app.client('gadgets.LeanController');
    await expect(lean.Retrieve({ id: ids[0] })).resolves.toMatchObject({ name: 'widget' });
    await expect(lean.Retrieve({ id: ids[1] })).rejects.toMatchObject({ code: 5 });
    const names: string[] = [];
    for await (const row of lean.List({}) as AsyncIterable<{ name: string }>) names.push(row.name);
    expect(names).toEqual(['widget']);
  });
});
