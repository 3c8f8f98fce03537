import { status } from '@grpc/grpc-js';
import { Type } from 'class-transformer';
import { ValidateNested } from 'class-validator';
import {
  CreateModelMixin,
  GenericService,
  GrpcModelService,
  ModelProtoSerializer,
  ProtoSerializer,
  RetrieveModelMixin,
  SerializerData,
  UpdateModelMixin,
} from 'nestjs-grpc-framework';
import { Author } from '../../sample/bookstore/author.entity';
import { Book } from '../../sample/bookstore/book.entity';
import { Gadget, Maker, Tag } from '../fixtures/gadgets/gadget.entity';
import { GadgetNameSerializer, MakerSerializer } from '../fixtures/gadgets/maker.serializers';
import { gadgetProtos, startGadgetApp } from '../utils/gadget-app';
import { GrpcClient, RunningSample, startSample, unary } from '../utils/sample-app';
import { badRequestOf } from '../utils/status-details';

const published = { seconds: '296611200', nanos: 0 };

/** The bookstore's books take a new author in `author`, or an existing one's key in `author_id`. */
describe('writable nested objects: bookstore.BookController', () => {
  let sample: RunningSample;
  let books: GrpcClient;

  beforeAll(async () => {
    sample = await startSample();
    books = sample.client('bookstore.BookController', await sample.login());
  });
  afterAll(() => sample.close());

  const count = (entity: typeof Author | typeof Book, where: object) => sample.orm.em.fork().count(entity, where);

  it('creates a book with a new author in one call', async () => {
    const book = await unary(books, 'Create', {
      title: 'Parable of the Sower',
      isbn: '9781538732182',
      author: { name: 'Octavia E. Butler' },
      published,
      price: '17.99',
    });
    expect(book).toMatchObject({ title: 'Parable of the Sower', author: { id: expect.any(Number), name: 'Octavia E. Butler' } });
    expect(book.author_id).toBe((book.author as { id: number }).id);
    await expect(unary(books, 'Retrieve', { id: book.id })).resolves.toEqual(book);
    expect(await count(Author, { name: 'Octavia E. Butler' })).toBe(1);
  });

  it('names the nested field by its path and saves nothing when the author is invalid', async () => {
    const error = await unary(books, 'Create', {
      title: 'Nameless',
      isbn: '9780000000002',
      author: { name: '  ' },
      published,
      price: '1.00',
    }).catch((e) => e);
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(badRequestOf(error).violations).toEqual([
      { field: 'author.name', description: 'This field may not be blank.', reason: 'INVALID' },
    ]);
    expect(await count(Book, { title: 'Nameless' })).toBe(0);
  });

  it('refuses both author and author_id, and asks for one when neither is sent', async () => {
    const author = await unary(sample.client('bookstore.AuthorController', await sample.login()), 'Create', {
      name: 'Kim Stanley Robinson',
    });
    const both = await unary(books, 'Create', {
      title: 'Both',
      isbn: '9780000000003',
      author_id: author.id,
      author: { name: 'Another' },
      published,
      price: '1.00',
    }).catch((e) => e);
    expect(badRequestOf(both).violations).toEqual([
      { field: 'author_id', description: 'Send either author or author_id, not both.', reason: 'INVALID' },
    ]);
    const neither = await unary(books, 'Create', { title: 'Neither', isbn: '9780000000004', published, price: '1.00' }).catch((e) => e);
    expect(badRequestOf(neither).violations).toEqual([{ field: 'author_id', description: 'This field is required.', reason: 'REQUIRED' }]);
    expect(await count(Author, { name: 'Another' })).toBe(0);
    expect(await count(Book, { title: { $in: ['Both', 'Neither'] } })).toBe(0);
  });

  it('leaves no author behind when the book is refused after the author was written', async () => {
    await unary(books, 'Create', { title: 'Red Mars', isbn: '9780553560732', author: { name: 'KSR' }, published, price: '9.99' });
    // Two creates of the same isbn, each with a new author: whether validation or the database's
    // unique index refuses the second, its author is not kept.
    const racing = await Promise.allSettled(
      ['Racer A', 'Racer B'].map((name) =>
        unary(books, 'Create', { title: 'Green Mars', isbn: '9780553572391', author: { name }, published, price: '9.99' }),
      ),
    );
    const refused = racing.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason);
    expect(refused).toHaveLength(1);
    expect(refused[0].code).toBe(status.ALREADY_EXISTS);
    expect(await count(Book, { isbn: '9780553572391' })).toBe(1);
    // The refused book's author was rolled back with it.
    expect(await count(Author, { name: { $in: ['Racer A', 'Racer B'] } })).toBe(1);
  });

  it("updates the book's author in place, and names nested errors on Update", async () => {
    const book = await unary(books, 'Create', {
      title: 'Dune',
      isbn: '9780441013593',
      author: { name: 'Frank Herbert' },
      published,
      price: '10.00',
    });
    const authorId = (book.author as { id: number }).id;
    const updated = await unary(books, 'Update', { ...book, author_id: undefined, author: { name: 'Frank P. Herbert' } });
    expect(updated.author).toEqual({ id: authorId, name: 'Frank P. Herbert' });
    expect(await count(Author, { id: authorId, name: 'Frank P. Herbert' })).toBe(1);
    const error = await unary(books, 'Update', { ...book, author_id: undefined, title: 'Dune!', author: { name: 'x'.repeat(101) } }).catch(
      (e) => e,
    );
    expect(badRequestOf(error).violations).toEqual([
      { field: 'author.name', description: 'Ensure this field has no more than 100 characters.', reason: 'INVALID' },
    ]);
    expect(await count(Book, { title: 'Dune!' })).toBe(0);
  });
});

/** Fails to save a gadget named "boom" after the ones before it were written: a write that breaks halfway. */
class FailingGadgetSerializer extends GadgetNameSerializer {
  protected override async create(data: SerializerData): Promise<Gadget> {
    if (data.name === 'boom') throw new Error('the disk is full');
    return super.create(data);
  }
}

/** The same fields, with class-validator's `@ValidateNested()` and class-transformer's `@Type()` making the list writable. */
class DecoratedMakerSerializer extends ModelProtoSerializer(Maker, { fields: ['id', 'name', 'gadgets'] }) {
  @ValidateNested()
  @Type(() => FailingGadgetSerializer)
  gadgets!: Gadget[];
}

@GrpcModelService({ service: 'gadgets.MakerController', serializer: MakerSerializer })
class MakerService extends RetrieveModelMixin(UpdateModelMixin(CreateModelMixin(GenericService(Maker)))) {}

const PROTOS = gadgetProtos('gadget-reads.proto', 'gadget-sources.proto');

describe('writable nested lists: a maker with its gadgets', () => {
  const queries: string[] = [];
  let running: Awaited<ReturnType<typeof startGadgetApp>>;
  let makers: GrpcClient;

  beforeAll(async () => {
    running = await startGadgetApp([MakerService], PROTOS, queries);
    makers = running.app.client('gadgets.MakerController') as GrpcClient;
  });
  afterAll(() => running.close());

  const count = (entity: typeof Maker | typeof Gadget, where: object) => running.app.orm.em.fork().count(entity, where);

  it('creates the maker and each gadget, pointing at it', async () => {
    const maker = await makers.Create({ name: 'Acme', gadgets: [{ name: 'rocket' }, { name: 'anvil', id: 999 }] });
    expect(maker).toEqual({
      id: expect.any(Number),
      name: 'Acme',
      gadgets: [
        { id: expect.any(Number), name: 'rocket' },
        { id: expect.any(Number), name: 'anvil' },
      ],
    });
    expect((maker.gadgets as { id: number }[])[1].id).not.toBe(999); // the nested id is read-only
    await expect(makers.Retrieve({ id: maker.id })).resolves.toEqual(maker);
    expect(await count(Gadget, { maker: maker.id as number })).toBe(2);
  });

  it('indexes violations of list items, refuses too many, and saves nothing', async () => {
    const error = await makers
      .Create({ name: 'Broken', gadgets: [{ name: 'ok' }, { name: '' }, { name: 'y'.repeat(41) }] })
      .catch((e: unknown) => e);
    expect(badRequestOf(error as never).violations).toEqual([
      { field: 'gadgets[1].name', description: 'This field may not be blank.', reason: 'INVALID' },
      { field: 'gadgets[2].name', description: 'Ensure this field has no more than 40 characters.', reason: 'INVALID' },
    ]);
    const many = await makers
      .Create({ name: 'Broken', gadgets: [{ name: 'a' }, { name: 'b' }, { name: 'c' }, { name: 'd' }] })
      .catch((e: unknown) => e);
    expect(badRequestOf(many as never).violations).toEqual([
      { field: 'gadgets', description: 'Ensure this field has no more than 3 elements.', reason: 'INVALID' },
    ]);
    expect(await count(Maker, { name: 'Broken' })).toBe(0);
  });

  it('refuses nested list items on Update: they are written with a new object only', async () => {
    const maker = await makers.Create({ name: 'Updated', gadgets: [{ name: 'one' }] });
    await expect(makers.Update({ id: maker.id, name: 'Renamed' })).resolves.toMatchObject({ name: 'Renamed', gadgets: [{ name: 'one' }] });
    const error = await makers.Update({ id: maker.id, name: 'Again', gadgets: [{ name: 'two' }] }).catch((e: unknown) => e);
    expect(badRequestOf(error as never).violations).toEqual([
      {
        field: 'gadgets',
        description: 'Nested gadgets are written when the object is created; change them through their own service.',
        reason: 'INVALID',
      },
    ]);
  });

  it('runs in one transaction: a failure halfway through leaves nothing behind', async () => {
    @GrpcModelService({ service: 'gadgets.MakerController', serializer: DecoratedMakerSerializer })
    class DecoratedMakerService extends RetrieveModelMixin(UpdateModelMixin(CreateModelMixin(GenericService(Maker)))) {}
    const other = await startGadgetApp([DecoratedMakerService], PROTOS);
    try {
      const client = other.app.client('gadgets.MakerController') as GrpcClient;
      await expect(client.Create({ name: 'Decorated', gadgets: [{ name: 'fine' }] })).resolves.toMatchObject({
        name: 'Decorated',
        gadgets: [{ name: 'fine' }],
      });
      const error = await client.Create({ name: 'Halfway', gadgets: [{ name: 'first' }, { name: 'boom' }] }).catch((e: unknown) => e);
      expect((error as { code: number; details: string }).code).toBe(status.INTERNAL);
      expect((error as { details: string }).details).not.toContain('disk');
      const em = other.app.orm.em.fork();
      expect(await em.count(Maker, { name: 'Halfway' })).toBe(0);
      expect(await em.count(Gadget, { name: 'first' })).toBe(0);
    } finally {
      await other.close();
    }
  });
});

describe('writable nested start-up checks', () => {
  it('refuses a writable nested many-to-many, a nested serializer that cannot save, and @ValidateNested without a serializer', async () => {
    const TagSerializer = ModelProtoSerializer(Tag, { fields: ['id', 'label'] });
    const ManyToMany = ModelProtoSerializer(Gadget, {
      fields: ['id', 'tags'],
      fieldOptions: { tags: { serializer: TagSerializer, readOnly: false } },
    });
    expect(() => ManyToMany.spec()).toThrow(
      'field "tags": writable nested objects need a many-to-one, an owning one-to-one or a one-to-many relation; tags is m:n. Send keys for it instead (a field without a serializer).',
    );
    class PlainMaker extends ProtoSerializer<Maker> {}
    const NotAModel = ModelProtoSerializer(Gadget, {
      fields: ['id', 'maker'],
      fieldOptions: { maker: { serializer: PlainMaker, readOnly: false } },
    });
    expect(() => NotAModel.spec()).toThrow(
      'field "maker": a writable nested object is saved by its serializer, so PlainMaker must be a ModelProtoSerializer.',
    );
    class Undecided extends ModelProtoSerializer(Maker, { fields: ['id', 'name', 'gadgets'] }) {
      @ValidateNested() gadgets!: Gadget[];
    }
    expect(() => Undecided.spec()).toThrow(
      'field "gadgets" has @ValidateNested() but no nested serializer to validate with: add @Type(() => TheSerializer) or the serializer option.',
    );
  });
});
