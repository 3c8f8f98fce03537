import type { Type } from '@nestjs/common';
import { GenericService, GrpcModelService, ListModelMixin, ModelProtoSerializer, PagedListModelMixin } from 'nestjs-grpc-framework';
import { GrpcTestingApp, TestClient } from 'nestjs-grpc-framework/testing';
import { Gadget, GadgetColor, Maker, Tag } from '../fixtures/gadgets/gadget.entity';
import { gadgetProtos, gadgetStartupError, startGadgetApp } from '../utils/gadget-app';

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

const FILTERS = {
  name: ['=', '!=', ':'],
  serial: ['=', '<', '>'],
  weight: ['<', '>='],
  price: ['=', '>'],
  active: ['='],
  released_at: ['<', '>=', '=', '!='],
  nickname: ['=', '!='],
  rank: ['=', '!=', '>'],
  color: ['=', '!='],
  maker: ['=', '!='],
} as const;

@GrpcModelService({
  service: 'gadgets.QueryLeanController',
  serializer: GadgetColumnsSerializer,
  filterFields: FILTERS,
  orderingFields: ['name', 'serial', 'weight', 'id'],
  listBatchSize: 3, // pages span several queries
  countTotal: true,
})
class QueryLeanService extends PagedListModelMixin(ListModelMixin(GenericService(Gadget))) {}

@GrpcModelService({ service: 'gadgets.QueryEntityController' })
class QueryEntityService extends QueryLeanService {
  override leanReads = false;
}

@GrpcModelService({
  service: 'gadgets.QueryTaggedController',
  serializer: GadgetWithTagsSerializer,
  filterFields: { tags: [':'], name: [':'] },
})
class QueryTaggedService extends ListModelMixin(GenericService(Gadget)) {}

const PROTOS = gadgetProtos('gadget-reads.proto', 'gadget-query.proto');

interface GadgetMessage {
  id: number;
  name: string;
}

async function listed(client: TestClient, request: object): Promise<number[]> {
  const ids: number[] = [];
  for await (const row of client.List(request) as AsyncIterable<GadgetMessage>) ids.push(row.id);
  return ids;
}

describe('List querying over every column kind, reading columns or entities', () => {
  const queries: string[] = [];
  let running: Awaited<ReturnType<typeof startGadgetApp>>;
  let app: GrpcTestingApp;
  let gadgets: Gadget[];
  let makers: Maker[];
  let tags: Tag[];

  beforeAll(async () => {
    running = await startGadgetApp([QueryLeanService, QueryEntityService, QueryTaggedService], PROTOS, queries);
    app = running.app;
    const em = app.orm.em.fork();
    makers = ['acme', 'globex'].map((name) => em.create(Maker, { name }));
    tags = ['new', 'sale'].map((label) => em.create(Tag, { label }));
    gadgets = Array.from({ length: 20 }, (_, i) => {
      const gadget = em.create(Gadget, {
        name: i % 4 === 0 ? `Widget ${i}` : `gizmo-${i}`,
        description: '',
        serial: String(9007199254740990n + BigInt(i)),
        weight: (i * 7) % 10,
        price: `${i}.50`,
        active: i % 3 !== 0,
        releasedAt: i % 5 === 0 ? null : new Date(Date.UTC(2024, 0, 1 + i)),
        nickname: i % 2 ? `n${i}` : null,
        rank: i % 3 ? i : null,
        color: i % 2 ? GadgetColor.Blue : GadgetColor.Red,
        maker: i % 4 === 3 ? null : makers[i % 2],
      });
      if (i % 3 === 1) gadget.tags.add(tags[0]);
      if (i % 4 === 1) gadget.tags.add(tags[1]);
      return gadget;
    });
    await em.flush();
  });
  afterAll(() => running.close());

  const idsWhere = (match: (gadget: Gadget) => boolean) => gadgets.filter(match).map((g) => g.id);

  it('gives the same rows reading columns as reading entities, as the filter says', async () => {
    const lean = app.client('gadgets.QueryLeanController');
    const entity = app.client('gadgets.QueryEntityController');
    const day = (d: number) => Date.UTC(2024, 0, d);
    const cases: [string, (g: Gadget) => boolean][] = [
      ['name:"WIDGET"', (g) => g.name.startsWith('Widget')],
      ['name != "gizmo-3"', (g) => g.name !== 'gizmo-3'],
      ['serial > 9007199254741000', (g) => BigInt(g.serial) > 9007199254741000n],
      ['weight < 3 AND weight >= 1', (g) => g.weight < 3 && g.weight >= 1],
      ['price > 10.5', (g) => Number(g.price) > 10.5],
      ['active = false', (g) => !g.active],
      ['released_at = null', (g) => g.releasedAt === null],
      ['released_at != null AND released_at < "2024-01-08T00:00:00Z"', (g) => !!g.releasedAt && g.releasedAt.getTime() < day(8)],
      ['released_at >= "2024-01-15T00:00:00+01:00"', (g) => !!g.releasedAt && g.releasedAt.getTime() >= day(15) - 3600_000],
      ['nickname = null', (g) => g.nickname === null],
      ['rank != null AND rank > 10', (g) => g.rank !== null && g.rank! > 10],
      ['color = GADGET_COLOR_BLUE', (g) => g.color === GadgetColor.Blue],
      ['color != red', (g) => g.color !== GadgetColor.Red],
      [`maker = ${makers[1].id}`, (g) => g.maker === makers[1]],
      ['maker = null OR -active = true', (g) => g.maker === null || !g.active],
    ];
    for (const [filter, match] of cases) {
      const expected = { filter, ids: idsWhere(match) };
      expect({ filter, ids: await listed(lean, { filter }) }).toEqual(expected);
      expect({ filter, ids: await listed(entity, { filter }) }).toEqual(expected);
    }
  });

  it("reads filtered pages as columns: only the serializer's columns are selected", async () => {
    queries.length = 0;
    await listed(app.client('gadgets.QueryLeanController'), { filter: 'name:"gizmo"', order_by: 'weight desc', page_size: 5 });
    const selects = queries.filter((q) => /select/i.test(q) && /gadget_gadget/.test(q));
    expect(selects.length).toBeGreaterThan(1); // 5 rows and one more, 3 per query
    for (const select of selects) expect(select).not.toMatch(/\.\*|offset/i); // columns only; keyset, not offsets
    queries.length = 0;
    await listed(app.client('gadgets.QueryEntityController'), { filter: 'name:"gizmo"', page_size: 5 });
    expect(queries.filter((q) => /select/i.test(q) && /gadget_gadget/.test(q)).join('\n')).toMatch(/\.\*/);
  });

  it('pages through several queries per page with a text filter, the same on both paths', async () => {
    const request = { filter: 'name:"gizmo" OR serial < 9007199254740995', order_by: 'weight desc, serial' };
    const expected = gadgets
      .filter((g) => g.name.includes('gizmo') || BigInt(g.serial) < 9007199254740995n)
      .sort((a, b) => b.weight - a.weight || Number(BigInt(a.serial) - BigInt(b.serial)))
      .map((g) => g.id);
    for (const service of ['gadgets.QueryLeanController', 'gadgets.QueryEntityController']) {
      const client = app.client(service);
      const seen: number[] = [];
      let token = '';
      do {
        const page = (await client.ListPage({ ...request, page_size: 7, page_token: token })) as {
          results: GadgetMessage[];
          next_page_token: string;
          total_size: string;
        };
        expect(page.results.length).toBeLessThanOrEqual(7);
        expect(page.total_size).toBe(String(expected.length));
        seen.push(...page.results.map((g) => g.id));
        token = page.next_page_token;
      } while (token);
      expect({ service, seen }).toEqual({ service, seen: expected });
    }
  });

  it('finds rows whose list of ids has one, with ":"', async () => {
    const tagged = app.client('gadgets.QueryTaggedController');
    expect(await listed(tagged, { filter: `tags:${tags[1].id}` })).toEqual(idsWhere((g) => g.tags.contains(tags[1])));
    expect(await listed(tagged, { filter: `tags:${tags[0].id} AND name:"gizmo"` })).toEqual(
      idsWhere((g) => g.tags.contains(tags[0]) && g.name.includes('gizmo')),
    );
  });

  it('refuses an enum value that is not one, naming the choices', async () => {
    await expect(listed(app.client('gadgets.QueryLeanController'), { filter: 'color = GREEN' })).rejects.toMatchObject({
      code: 3,
      details: expect.stringContaining('color: "GREEN" is not one of RED, BLUE.'),
    });
  });
});

/** Allowlists that cannot work fail the start, naming the service and the field. */
describe('List querying start-up checks', () => {
  const startupError = (controllers: Type[]) => gadgetStartupError(controllers, PROTOS);

  it('names fields the serializer does not send, unusable comparators and nullable order keys', async () => {
    @GrpcModelService({
      service: 'gadgets.QueryLeanController',
      serializer: GadgetWithTagsSerializer,
      filterFields: { name: ['~' as '='], weight: ['='], tags: ['='] },
      orderingFields: ['description'],
    })
    class Unsent extends PagedListModelMixin(ListModelMixin(GenericService(Gadget))) {}
    const message = await startupError([Unsent]);
    expect(message).toContain('Unsent (gadgets.QueryLeanController): filterFields "name": unknown comparator ~ (use = != < <= > >= :).');
    expect(message).toContain(
      'Unsent (gadgets.QueryLeanController): filterFields names "weight", which the serializer does not send (fields it sends: id, name, tags).',
    );
    expect(message).toContain(
      'Unsent (gadgets.QueryLeanController): filterFields "tags": a list of ids can only be filtered with ":" (has).',
    );
    expect(message).toContain(
      'Unsent (gadgets.QueryLeanController): orderingFields names "description", which the serializer does not send',
    );

    @GrpcModelService({
      service: 'gadgets.QueryLeanController',
      serializer: GadgetColumnsSerializer,
      filterFields: { weight: [':'], specs: ['='] },
      orderingFields: ['rank', 'maker'],
    })
    class Unusable extends PagedListModelMixin(ListModelMixin(GenericService(Gadget))) {}
    const second = await startupError([Unusable]);
    expect(second).toContain(
      'Unusable (gadgets.QueryLeanController): filterFields "weight": ":" (has) applies to text and lists of ids, not to a float.',
    );
    expect(second).toContain('Unusable (gadgets.QueryLeanController): filterFields "specs": a json field cannot be filtered.');
    expect(second).toContain(
      'Unusable (gadgets.QueryLeanController): orderingFields "rank": rank is nullable; pages continue after the last row\'s values, so ordering needs a NOT NULL column.',
    );
    expect(second).toContain(
      'Unusable (gadgets.QueryLeanController): orderingFields "maker": maker is not a column of Gadget (only scalar columns can be ordered by).',
    );
  });

  it('names an allowlist whose List request has no field to read it from, and a paged order that cannot continue', async () => {
    @GrpcModelService({
      service: 'gadgets.LeanController',
      serializer: GadgetColumnsSerializer,
      filterFields: { name: ['='] },
      orderingFields: ['name'],
    })
    class NoRequestFields extends ListModelMixin(GenericService(Gadget)) {}
    const message = await startupError([NoRequestFields]);
    expect(message).toContain(
      'NoRequestFields (gadgets.LeanController): filterFields is set but gadgets.GadgetListRequest has no `string filter` field to read a filter from; add one.',
    );
    expect(message).toContain(
      'NoRequestFields (gadgets.LeanController): orderingFields is set but gadgets.GadgetListRequest has no `string order_by` field; add one.',
    );

    @GrpcModelService({ service: 'gadgets.QueryLeanController', serializer: GadgetColumnsSerializer })
    class NullableOrder extends ListModelMixin(GenericService(Gadget, { orderBy: { rank: 'asc' } })) {}
    expect(await startupError([NullableOrder])).toContain(
      'NullableOrder (gadgets.QueryLeanController): List is paged but its order (rank, id) cannot be continued from a row: order by NOT NULL columns, asc or desc.',
    );
  });
});
