import { status } from '@grpc/grpc-js';
import { JwtService } from '@nestjs/jwt';
import { Book } from '../../sample/bookstore/book.entity';
import { Review } from '../../sample/bookstore/review.entity';
import { badRequestOf, failureOf } from '../utils/status-details';
import { collect, RunningSample, startSample, unary } from '../utils/sample-app';

/** The bookstore sample's accounts: Login, staff-only catalogue writes, members' own reviews. */
describe('bookstore authentication and permissions', () => {
  let sample: RunningSample;
  let staff: string;
  let book: { id: number };

  beforeAll(async () => {
    sample = await startSample();
    staff = await sample.login();
    const author = await unary(sample.client('bookstore.AuthorController', staff), 'Create', { name: 'N. K. Jemisin' });
    book = await unary(sample.client('bookstore.BookController', staff), 'Create', {
      title: 'The Fifth Season',
      isbn: '9780316229296',
      author_id: author.id,
      published: { seconds: '1438387200', nanos: 0 },
      price: '16.99',
    });
  });
  afterAll(() => sample.close());

  const signUp = async (email: string) => {
    const member = await unary(sample.client('bookstore.MemberController'), 'Create', {
      email,
      name: email.split('@')[0],
      password: 'a long password',
    });
    return { member, token: await sample.login(email, 'a long password') };
  };
  const failure = (call: Promise<unknown>) =>
    call.then(
      () => ({ code: status.OK, details: '' }),
      (error: { code: number; details: string }) => ({ code: error.code, details: error.details }),
    );

  it('logs a member in with a bearer token, and refuses a wrong password or email alike', async () => {
    const auth = sample.client('bookstore.AuthController');
    const ok = await unary<{ token: string; member: { email: string; is_staff: boolean } }>(auth, 'Login', {
      email: 'staff@bookstore.example',
      password: 'staff-password',
    });
    expect(ok.member).toMatchObject({ email: 'staff@bookstore.example', is_staff: true });
    expect(ok.token.split('.')).toHaveLength(3);
    const wrongPassword = await failure(unary(auth, 'Login', { email: 'staff@bookstore.example', password: 'nope-nope' }));
    const unknownEmail = await failure(unary(auth, 'Login', { email: 'nobody@example.com', password: 'nope-nope' }));
    expect(wrongPassword).toEqual({ code: status.UNAUTHENTICATED, details: 'Wrong email or password.' });
    expect(unknownEmail).toEqual(wrongPassword);
    await expect(failure(unary(auth, 'Login', { email: '', password: '' }))).resolves.toMatchObject({ code: status.INVALID_ARGUMENT });
  });

  it('lets anyone read books, and only staff write them', async () => {
    const anonymous = sample.client('bookstore.BookController');
    await expect(unary(anonymous, 'Retrieve', { id: book.id })).resolves.toMatchObject({ title: 'The Fifth Season' });
    expect(await collect(anonymous, 'List', {})).toHaveLength(1);
    const create = {
      title: 'The Obelisk Gate',
      isbn: '9780316229265',
      author_id: 1,
      published: { seconds: '0', nanos: 0 },
      price: '16.99',
    };
    await expect(failure(unary(anonymous, 'Create', create))).resolves.toEqual({
      code: status.UNAUTHENTICATED,
      details: 'Authentication credentials were not provided: send a bearer token (authorization: Bearer <JWT>).',
    });
    const { token } = await signUp('reader@example.com');
    await expect(failure(unary(sample.client('bookstore.BookController', token), 'Destroy', { id: book.id }))).resolves.toEqual({
      code: status.PERMISSION_DENIED,
      details: 'Only staff may change the catalogue.',
    });
    await expect(failure(unary(sample.client('bookstore.BookController', 'not.a.token'), 'Retrieve', { id: book.id }))).resolves.toEqual({
      code: status.UNAUTHENTICATED,
      details: 'Invalid bearer token.',
    });
  });

  it('lets staff discount a book (a custom action), validated, and no one else', async () => {
    const { token } = await signUp('bargain@example.com');
    await expect(
      failure(unary(sample.client('bookstore.BookController', token), 'Discount', { id: book.id, percent: 50 })),
    ).resolves.toEqual({
      code: status.PERMISSION_DENIED,
      details: 'Only staff may change the catalogue.',
    });
    const books = sample.client('bookstore.BookController', staff);
    const tooMuch = await failureOf(unary(books, 'Discount', { id: book.id, percent: 95 }));
    expect(badRequestOf(tooMuch).violations).toEqual([
      expect.objectContaining({ field: 'percent', description: 'A discount is 1 to 90 percent.' }),
    ]);
    await expect(unary(books, 'Discount', { id: book.id, percent: 10 })).resolves.toMatchObject({
      id: book.id,
      price: '15.29',
      author: { name: 'N. K. Jemisin' },
    });
    await expect(unary(books, 'Retrieve', { id: book.id })).resolves.toMatchObject({ price: '15.29' });
    await expect(failure(unary(books, 'Discount', { id: 999999, percent: 10 }))).resolves.toMatchObject({ code: status.NOT_FOUND });
    await sample.orm.em.fork().nativeUpdate(Book, { id: book.id }, { price: '16.99' });
  });

  it('lets a member write reviews and change only their own', async () => {
    const ann = await signUp('ann@example.com');
    const bob = await signUp('bob@example.com');
    const annReviews = sample.client('bookstore.ReviewController', ann.token);
    const bobReviews = sample.client('bookstore.ReviewController', bob.token);
    const review = await unary(annReviews, 'Create', { book_id: book.id, rating: 5, text: 'Stunning.', member_id: bob.member.id });
    expect(review).toMatchObject({ member_id: ann.member.id }); // the caller, whatever the message says

    await expect(failure(unary(bobReviews, 'Update', { ...review, text: 'Meh.' }))).resolves.toEqual({
      code: status.PERMISSION_DENIED,
      details: 'You may change only your own reviews.',
    });
    await expect(failure(unary(bobReviews, 'Destroy', { id: review.id }))).resolves.toMatchObject({ code: status.PERMISSION_DENIED });
    expect((await sample.orm.em.fork().findOneOrFail(Review, { id: review.id as number })).text).toBe('Stunning.');
    await expect(unary(bobReviews, 'Retrieve', { id: review.id })).resolves.toMatchObject({ text: 'Stunning.' });

    await expect(unary(annReviews, 'Update', { ...review, rating: 4, text: 'Still stunning.' })).resolves.toMatchObject({
      rating: 4,
      member_id: ann.member.id,
    });
    await expect(unary(sample.client('bookstore.ReviewController', staff), 'Destroy', { id: review.id })).resolves.toEqual({});
    await expect(
      failure(unary(sample.client('bookstore.ReviewController'), 'Create', { book_id: book.id, rating: 3 })),
    ).resolves.toMatchObject({ code: status.UNAUTHENTICATED });
  });

  it('shows a member only themself, staff every member, and keeps is_staff out of reach', async () => {
    const cy = await signUp('cy@example.com');
    const dee = await signUp('dee@example.com');
    const cyMembers = sample.client('bookstore.MemberController', cy.token);
    expect((await collect(cyMembers, 'List', {})).map((m) => m.email)).toEqual(['cy@example.com']);
    expect((await collect(sample.client('bookstore.MemberController', staff), 'List', {})).length).toBeGreaterThan(2);
    await expect(failure(unary(cyMembers, 'Retrieve', { id: dee.member.id }))).resolves.toEqual({
      code: status.PERMISSION_DENIED,
      details: 'You may see and change only your own account.',
    });
    const promoted = await unary(cyMembers, 'Update', { id: cy.member.id, email: 'cy@example.com', name: 'Cy', is_staff: true });
    expect(promoted).toMatchObject({ name: 'Cy', is_staff: false });
  });

  it('refuses a token signed with another key or expired', async () => {
    const forged = new JwtService({ secret: 'not the bookstore secret' }).sign({ staff: true }, { subject: '1' });
    const books = sample.client('bookstore.BookController', forged);
    await expect(failure(unary(books, 'Retrieve', { id: book.id }))).resolves.toEqual({
      code: status.UNAUTHENTICATED,
      details: 'Invalid bearer token.',
    });
    const { bookstoreTokens } = await import('../../sample/bookstore/bookstore-auth');
    const expired = bookstoreTokens.sign({ staff: true }, { subject: '1', expiresIn: -10 });
    await expect(failure(unary(sample.client('bookstore.BookController', expired), 'Destroy', { id: book.id }))).resolves.toEqual({
      code: status.UNAUTHENTICATED,
      details: 'Invalid bearer token.',
    });
  });

  it('refuses a validly signed token whose subject is not a member key', async () => {
    const { bookstoreTokens } = await import('../../sample/bookstore/bookstore-auth');
    for (const subject of ['abc', '1.5', '-1', '0x1', '99999999999', '']) {
      const token = bookstoreTokens.sign({ staff: false }, subject ? { subject } : {});
      for (const [service, method, request] of [
        ['bookstore.ReviewController', 'Create', { book_id: book.id, rating: 3 }],
        ['bookstore.MemberController', 'List', {}],
        ['bookstore.MemberController', 'Retrieve', { id: 1 }],
      ] as const) {
        const client = sample.client(service, token);
        const call = method === 'List' ? collect(client, method, request) : unary(client, method, request);
        await expect(failure(call)).resolves.toEqual({ code: status.UNAUTHENTICATED, details: 'Invalid bearer token.' });
      }
    }
    const numeric = bookstoreTokens.sign({ staff: false, sub: 1 });
    await expect(failure(unary(sample.client('bookstore.MemberController', numeric), 'Retrieve', { id: 1 }))).resolves.toEqual({
      code: status.UNAUTHENTICATED,
      details: 'Invalid bearer token.',
    });
  });
});

/** BookController.BulkCreate: books with their authors nested, in batches, all or nothing. */
describe('bookstore BulkCreate', () => {
  let sample: RunningSample;
  let staff: string;
  let authorId: number;

  beforeAll(async () => {
    sample = await startSample();
    staff = await sample.login();
    authorId = ((await unary(sample.client('bookstore.AuthorController', staff), 'Create', { name: 'Becky Chambers' })) as { id: number })
      .id;
  });
  afterAll(() => sample.close());

  const book = (i: number) => ({
    title: `Wayfarer ${i}`,
    isbn: String(9790000000000 + i),
    author_id: authorId,
    published: { seconds: '0', nanos: 0 },
    price: '9.99',
  });
  const bulk = (token: string | undefined, books: object[]) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const call = sample
        .client('bookstore.BookController', token)
        .BulkCreate((error: Error | null, reply: Record<string, unknown>) => (error ? reject(error) : resolve(reply)));
      for (const b of books) call.write(b);
      call.end();
    });
  const stored = () => sample.orm.em.fork().count(Book, { title: { $like: 'Wayfarer %' } });

  it('creates 40 books (several write batches) and answers with them, authors nested', async () => {
    const reply = (await bulk(
      staff,
      Array.from({ length: 40 }, (_, i) => book(i)),
    )) as { books: { title: string; author: { name: string } }[] };
    expect(reply.books).toHaveLength(40);
    expect(reply.books[39]).toMatchObject({ title: 'Wayfarer 39', author: { name: 'Becky Chambers' } });
    expect(await stored()).toBe(40);
  });

  it('writes nothing when a later book repeats an earlier ISBN, naming it', async () => {
    const books = [book(100), book(101), { ...book(102), isbn: book(100).isbn }];
    const error = (await bulk(staff, books).catch((e) => e)) as { code: number };
    expect(error.code).toBe(status.ALREADY_EXISTS);
    expect(badRequestOf(error as never).violations).toEqual([expect.objectContaining({ field: 'items[2]', reason: 'UNIQUE' })]);
    expect(await sample.orm.em.fork().count(Book, { isbn: { $in: [book(100).isbn, book(101).isbn] } })).toBe(0);
  });

  it('is for staff only', async () => {
    await expect(bulk(undefined, [book(200)])).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
    expect(await sample.orm.em.fork().count(Book, { isbn: book(200).isbn })).toBe(0);
  });
});
