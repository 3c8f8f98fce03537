import { status } from '@grpc/grpc-js';
import {
  CreateModelMixin,
  GenericService,
  GrpcModelService,
  ListModelMixin,
  ModelProtoSerializer,
  ProtoField,
  RetrieveModelMixin,
  UpdateModelMixin,
} from 'nestjs-grpc-framework';
import { GrpcTestingApp } from 'nestjs-grpc-framework/testing';
import { Member } from '../../sample/bookstore/member.entity';
import { verifyPassword } from '../../sample/bookstore/password';
import { Gadget, Maker } from '../fixtures/gadgets/gadget.entity';
import { gadgetProtos, gadgetStartupError, startGadgetApp } from '../utils/gadget-app';
import { badRequestOf } from '../utils/status-details';
import { collect, GrpcClient, RunningSample, startSample, unary } from '../utils/sample-app';

/** The bookstore's members: a write-only password, hashed by the service, never sent. */
describe('write-only fields: bookstore.MemberController', () => {
  let sample: RunningSample;
  let members: GrpcClient;

  beforeAll(async () => {
    sample = await startSample();
    members = sample.client('bookstore.MemberController');
  });
  afterAll(() => sample.close());

  const stored = (id: number) => sample.orm.em.fork().findOneOrFail(Member, { id });

  it('accepts the password, stores only its scrypt hash, and never sends it back', async () => {
    const created = await unary(members, 'Create', { email: 'ann@example.com', name: 'Ann', password: 'correct horse battery' });
    expect(created).toEqual({ id: expect.any(Number), email: 'ann@example.com', name: 'Ann', is_staff: false }); // no password, not even empty
    const member = await stored(created.id as number);
    expect(member.passwordHash).toMatch(/^scrypt\$/);
    expect(member.passwordHash).not.toContain('correct horse');
    await expect(verifyPassword('correct horse battery', member.passwordHash)).resolves.toBe(true);
    const ann = sample.client('bookstore.MemberController', await sample.login('ann@example.com', 'correct horse battery'));
    await expect(unary(ann, 'Retrieve', { id: created.id })).resolves.not.toHaveProperty('_password');
    expect((await collect(ann, 'List', {})).every((m) => m._password === undefined)).toBe(true);

    // An update without a password keeps the hash; with one, replaces it.
    await unary(ann, 'Update', { id: created.id, email: 'ann@example.com', name: 'Ann B', password: 'another good password' });
    await expect(verifyPassword('another good password', (await stored(created.id as number)).passwordHash)).resolves.toBe(true);
  });

  it('refuses a short password without echoing it, and stores nothing', async () => {
    const error = await unary(members, 'Create', { email: 'bob@example.com', name: 'Bob', password: 'hunter2' }).catch((e) => e);
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(badRequestOf(error).violations).toEqual([
      { field: 'password', description: 'Ensure this field has at least 8 characters.', reason: 'INVALID' },
    ]);
    expect(`${error.details} ${JSON.stringify(badRequestOf(error))}`).not.toContain('hunter2');
    expect(await sample.orm.em.fork().count(Member, { email: 'bob@example.com' })).toBe(0);
    const missing = await unary(members, 'Create', { email: 'cy@example.com', name: 'Cy' }).catch((e) => e);
    // `optional string password` has presence: left out, it is required (not a blank '').
    expect(badRequestOf(missing).violations).toEqual([{ field: 'password', description: 'This field is required.', reason: 'REQUIRED' }]);
  });
});

class SourcedSerializer extends ModelProtoSerializer(Gadget, {
  fields: ['id', 'name', 'makerName', 'madeBy'],
  fieldOptions: { makerName: { source: 'maker.name' }, madeBy: { source: 'maker' } },
}) {}

@GrpcModelService({ service: 'gadgets.SourcedController', serializer: SourcedSerializer })
class SourcedService extends RetrieveModelMixin(ListModelMixin(UpdateModelMixin(GenericService(Gadget)))) {}

const PROTOS = gadgetProtos('gadget-reads.proto', 'gadget-sources.proto');

/** Fields read from another property or through relations, without a query per row. */
describe('source: another property, or a path through relations', () => {
  const queries: string[] = [];
  let running: Awaited<ReturnType<typeof startGadgetApp>>;
  let app: GrpcTestingApp;
  let makers: Maker[];
  let gadgets: Gadget[];

  beforeAll(async () => {
    running = await startGadgetApp([SourcedService], PROTOS, queries);
    app = running.app;
    const em = app.orm.em.fork();
    makers = Array.from({ length: 5 }, (_, i) => em.create(Maker, { name: `maker ${i}` }));
    gadgets = Array.from({ length: 40 }, (_, i) =>
      Object.assign(new Gadget(), { name: `g${i}`, maker: i % 6 === 5 ? null : makers[i % 5] }),
    );
    em.persist(gadgets);
    await em.flush();
  });
  afterAll(() => running.close());

  it('sends the related name and the relation under another name, loading makers once per batch', async () => {
    const client = app.client('gadgets.SourcedController');
    await expect(client.Retrieve({ id: gadgets[1].id })).resolves.toEqual({
      id: gadgets[1].id,
      name: 'g1',
      maker_name: 'maker 1',
      made_by: makers[1].id,
    });
    // No maker: no id, and the name is unset ('' as proto3 reads an unset string).
    await expect(client.Retrieve({ id: gadgets[5].id })).resolves.toEqual({ id: gadgets[5].id, name: 'g5', maker_name: '' });
    queries.length = 0;
    const listed: Record<string, unknown>[] = [];
    for await (const row of client.List({}) as AsyncIterable<Record<string, unknown>>) listed.push(row);
    expect(listed).toHaveLength(40);
    // (By id: with makers' gadgets as a collection, PostgreSQL's flush may insert them in another order.)
    expect(listed.find((row) => row.id === gadgets[7].id)).toEqual({
      id: gadgets[7].id,
      name: 'g7',
      maker_name: 'maker 2',
      made_by: makers[2].id,
    });
    // One query for the gadgets and one for their makers: not one per gadget.
    expect(queries.filter((q) => /select/i.test(q) && /gadget_maker/.test(q))).toHaveLength(1);
  });

  it('names a nested serializer for the wrong entity, or on a column', async () => {
    const { AuthorSerializer } = await import('../../sample/bookstore/bookstore.serializers');
    const WrongEntity = ModelProtoSerializer(Gadget, {
      fields: ['id', 'maker'],
      fieldOptions: { maker: { serializer: AuthorSerializer } },
    });
    expect(() => WrongEntity.spec()).toThrow('field "maker": AuthorSerializer serializes Author, but maker holds Maker.');
    const OnColumn = ModelProtoSerializer(Gadget, { fields: ['id', 'name'], fieldOptions: { name: { serializer: AuthorSerializer } } });
    expect(() => OnColumn.spec()).toThrow(
      'field "name": a nested serializer (AuthorSerializer) needs a relation to serialize; name is a column.',
    );
  });

  it('writes through the renamed field, and validates it as the relation it writes', async () => {
    const client = app.client('gadgets.SourcedController');
    const updated = await client.Update({ id: gadgets[0].id, name: 'g0', made_by: makers[3].id, maker_name: 'ignored: read-only' });
    expect(updated).toEqual({ id: gadgets[0].id, name: 'g0', maker_name: 'maker 3', made_by: makers[3].id });
    const error = await client.Update({ id: gadgets[0].id, name: 'g0', made_by: 999 }).catch((e: unknown) => e);
    expect(badRequestOf(error as never).violations).toEqual([
      { field: 'made_by', description: 'Invalid pk "999" - object does not exist.', reason: 'DOES_NOT_EXIST' },
    ]);
  });
});

describe('serializer field start-up checks', () => {
  it('names a write-only field in a message the service only sends, or missing from what Create receives', async () => {
    class LeakySerializer extends ModelProtoSerializer(Gadget, { fields: ['id', 'name'] }) {
      @ProtoField({ kind: 'string', writeOnly: true }) secret!: string;
    }
    @GrpcModelService({ service: 'gadgets.LeakyController', serializer: LeakySerializer })
    class LeakyService extends RetrieveModelMixin(CreateModelMixin(GenericService(Gadget))) {}
    const message = await gadgetStartupError([LeakyService], PROTOS);
    expect(message).toContain(
      'field "secret" is write-only, but gadgets.GadgetView, which the service only sends, declares it: take it out of that message',
    );
    expect(message).toContain('field "secret" is write-only but gadgets.GadgetDraft, which Create receives, does not declare it.');
  });
});

/** Nested objects: a book carries its author as a message, loaded once per batch. */
describe('nested serializers: bookstore.BookController', () => {
  const queries: string[] = [];
  let sample: RunningSample;
  let books: GrpcClient;

  beforeAll(async () => {
    sample = await startSample({ database: { debug: ['query'], logger: (line: string) => queries.push(line) } });
    books = sample.client('bookstore.BookController', await sample.login());
  });
  afterAll(() => sample.close());

  it('sends the author as an Author message and takes it by author_id', async () => {
    const author = await unary(sample.client('bookstore.AuthorController', await sample.login()), 'Create', { name: 'Octavia E. Butler' });
    const book = await unary(books, 'Create', {
      title: 'Kindred',
      isbn: '9780807083697',
      author_id: author.id,
      published: { seconds: '296611200', nanos: 0 },
      price: '15.00',
    });
    expect(book).toMatchObject({
      title: 'Kindred',
      author_id: author.id,
      author: { id: author.id, name: 'Octavia E. Butler' },
      price: '15.00',
    });
    await expect(unary(books, 'Retrieve', { id: book.id })).resolves.toEqual(book);
    const error = await unary(books, 'Create', {
      title: 'X',
      isbn: '9780000000001',
      author_id: 12345,
      published: { seconds: '0', nanos: 0 },
      price: '1.00',
    }).catch((e) => e);
    expect(badRequestOf(error).violations).toEqual([
      { field: 'author_id', description: 'Invalid pk "12345" - object does not exist.', reason: 'DOES_NOT_EXIST' },
    ]);
  });

  it('lists 1,000 books with their authors in a constant number of queries per batch', async () => {
    const em = sample.orm.em.fork();
    const { Author } = await import('../../sample/bookstore/author.entity');
    const { Book } = await import('../../sample/bookstore/book.entity');
    const authors = Array.from({ length: 50 }, (_, i) => em.create(Author, { name: `Author ${i}` }));
    for (let i = 0; i < 1000; i++) {
      em.create(Book, {
        title: `Book ${i}`,
        isbn: String(9790000000000 + i),
        author: authors[i % 50],
        published: new Date(Date.UTC(2000, 0, 1 + i)),
        price: '10.00',
      });
    }
    await em.flush();
    queries.length = 0;
    const listed = await collect(books, 'List', { filter: 'title:"Book "' });
    expect(listed).toHaveLength(1000);
    expect(listed[123]).toMatchObject({ title: 'Book 123', author: { name: 'Author 23' } });
    // listBatchSize is 500: two batches of books (and a query that finds no more); their authors come
    // with them (joined) or in one query per batch, never one per book.
    const selects = queries.filter((q) => /select/i.test(q) && /bookstore_(book|author)/.test(q));
    expect(selects.length).toBeLessThanOrEqual(5);
  });
});

/** Computed fields: a book's average rating, one query per batch of books. */
describe('computed fields: bookstore average ratings', () => {
  const queries: string[] = [];
  let sample: RunningSample;

  beforeAll(async () => {
    sample = await startSample({ database: { debug: ['query'], logger: (line: string) => queries.push(line) } });
  });
  afterAll(() => sample.close());

  it('sends the mean rating of each book, unset without reviews, and validates ratings', async () => {
    const staff = await sample.login();
    const books = sample.client('bookstore.BookController', staff);
    const reviews = sample.client('bookstore.ReviewController', staff);
    const author = await unary(sample.client('bookstore.AuthorController', staff), 'Create', { name: 'Ursula K. Le Guin' });
    const published = { seconds: '0', nanos: 0 };
    const reviewed = await unary(books, 'Create', {
      title: 'The Dispossessed',
      isbn: '9780060512750',
      author_id: author.id,
      published,
      price: '9.99',
    });
    const quiet = await unary(books, 'Create', {
      title: 'Lavinia',
      isbn: '9780151014248',
      author_id: author.id,
      published,
      price: '12.00',
    });
    expect(reviewed._average_rating).toBeUndefined(); // no reviews yet: the optional field is unset
    for (const rating of [4, 5, 5]) await unary(reviews, 'Create', { book_id: reviewed.id, rating, text: 'good' });
    await expect(unary(books, 'Retrieve', { id: reviewed.id })).resolves.toMatchObject({
      average_rating: 4.67,
      _average_rating: 'average_rating',
    });
    await expect(unary(books, 'Retrieve', { id: quiet.id })).resolves.not.toHaveProperty('_average_rating', 'average_rating');
    const error = await unary(reviews, 'Create', { book_id: reviewed.id, rating: 6 }).catch((e) => e);
    expect(badRequestOf(error).violations).toEqual([{ field: 'rating', description: 'A rating is 1 to 5 stars.', reason: 'INVALID' }]);
  });

  it('computes the ratings of a List batch in one query, not one per book', async () => {
    const em = sample.orm.em.fork();
    const { Author } = await import('../../sample/bookstore/author.entity');
    const { Book } = await import('../../sample/bookstore/book.entity');
    const { Review } = await import('../../sample/bookstore/review.entity');
    const author = em.create(Author, { name: 'Many' });
    for (let i = 0; i < 300; i++) {
      const book = em.create(Book, { title: `Rated ${i}`, isbn: String(9791000000000 + i), author, published: new Date(0), price: '1.00' });
      em.create(Review, { book, rating: 1 + (i % 5) });
      em.create(Review, { book, rating: 5 });
    }
    await em.flush();
    queries.length = 0;
    const listed = await collect(sample.client('bookstore.BookController'), 'List', { filter: 'title:"Rated "' });
    expect(listed).toHaveLength(300);
    expect(listed[2]).toMatchObject({ title: 'Rated 2', average_rating: 4 });
    const reviewQueries = queries.filter((q) => /select/i.test(q) && /from .bookstore_review./.test(q));
    expect(reviewQueries).toHaveLength(1);
    // The database averages (one row per book), rather than sending every review's rating.
    expect(reviewQueries[0]).toMatch(/avg\(.*group by/i);
  });
});
