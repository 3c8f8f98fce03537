import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { MikroOrmModule } from '@mikro-orm/nestjs';
import { GrpcFrameworkModule, GrpcModelService, ModelProtoSerializer, ModelService, PagedListModelMixin } from 'nestjs-grpc-framework';
import { GrpcTestingApp } from 'nestjs-grpc-framework/testing';
import { Gadget, Maker, Tag } from '../fixtures/gadgets/gadget.entity';
import { Post } from '../../sample/blog/post.entity';
import { testDatabase } from '../utils/test-database';

const ROOT = path.join(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'lib', 'cli', 'main.js');
const run = (...args: string[]) => promisify(execFile)(process.execPath, [CLI, ...args], { cwd: ROOT });
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');
/** A seed proto as the per-entity command writes it: without the hand-written marker above `syntax`. */
const seedProto = (file: string) => read(file).replace(/^\/\/ grpc-framework: hand-written.*\n\n/, '');

describe('grpc-framework generateproto (run as a user would)', () => {
  it('reproduces the tutorial proto from the TypeScript entity', async () => {
    const { stdout } = await run(
      'generateproto',
      '--entity',
      'sample/blog/post.entity.ts:Post',
      '--fields',
      'id,title,content',
      '--package',
      'blog_proto',
      '--service',
      'PostController',
    );
    expect(stdout).toBe(seedProto('sample/protos/blog_proto/post.proto'));
  });

  it("reproduces the quickstart proto, relations as repeated ids, and accepts the seed's --model", async () => {
    const { stdout } = await run('generateproto', '--model', 'sample/account/user.entity.ts:User', '--fields', 'id,username,email,groups');
    expect(stdout).toBe(seedProto('sample/protos/account.proto'));
  });

  it('works on compiled JavaScript and writes --file, refusing to overwrite it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'generateproto-'));
    const file = path.join(dir, 'blog_proto', 'post.proto');
    const args = [
      'generateproto',
      '--entity',
      'dist/sample/blog/post.entity.js:Post',
      '--fields',
      'id,title,content',
      '--package',
      'blog_proto',
      '--service',
      'PostController',
      '--file',
      file,
    ];
    await expect(run(...args)).resolves.toMatchObject({ stdout: '' });
    expect(fs.readFileSync(file, 'utf8')).toBe(seedProto('sample/protos/blog_proto/post.proto'));
    await expect(run(...args)).rejects.toMatchObject({ stderr: expect.stringContaining('already exists') });
    fs.rmSync(dir, { recursive: true });
  });

  it('names an unknown field and a bad --entity, exiting 1', async () => {
    await expect(run('generateproto', '--entity', 'sample/blog/post.entity.ts:Post', '--fields', 'id,titel')).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('"titel" is not a property of Post'),
    });
    await expect(run('generateproto', '--entity', 'sample/blog/post.entity.ts')).rejects.toMatchObject({
      stderr: expect.stringContaining('must look like path/to/module:ExportName'),
    });
    await expect(run('generateproto', '--entity', 'sample/blog/post.entity.ts:Pots')).rejects.toMatchObject({
      stderr: expect.stringContaining('has no export named "Pots"'),
    });
  });

  it('maps every kind of column', async () => {
    const { stdout } = await run('generateproto', '--entity', 'test/fixtures/gadgets/gadget.entity.ts:Gadget');
    expect(stdout).toContain('package gadgets;');
    expect(stdout).toContain('import "google/protobuf/struct.proto";\nimport "google/protobuf/timestamp.proto";');
    expect(stdout).toContain(
      [
        'message Gadget {',
        '    int32 id = 1;',
        '    string name = 2;',
        '    string description = 3;',
        '    int64 serial = 4;',
        '    double weight = 5;',
        '    string price = 6;',
        '    bool active = 7;',
        '    google.protobuf.Timestamp released_at = 8;',
        '    optional string nickname = 9;',
        '    optional int32 rank = 10;',
        '    GadgetColor color = 11;',
        '    google.protobuf.Struct specs = 12;',
        '    optional int32 maker = 13;',
        '    repeated int32 tags = 14;',
        '}',
      ].join('\n'),
    );
    expect(stdout).toContain(
      ['enum GadgetColor {', '    GADGET_COLOR_UNSPECIFIED = 0;', '    GADGET_COLOR_RED = 1;', '    GADGET_COLOR_BLUE = 2;', '}'].join(
        '\n',
      ),
    );
    const wrapped = await run('generateproto', '--entity', 'test/fixtures/gadgets/gadget.entity.ts:Gadget', '--wrappers');
    expect(wrapped.stdout).toContain('    google.protobuf.StringValue nickname = 9;');
    expect(wrapped.stdout).toContain('    google.protobuf.Int32Value rank = 10;');
    expect(wrapped.stdout).toContain('import "google/protobuf/wrappers.proto";');
  });

  it('round trip: the generated proto loads, serves and answers', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'roundtrip-'));
    const file = path.join(dir, 'gadgets.proto');
    await run('generateproto', '--entity', 'test/fixtures/gadgets/gadget.entity.ts:Gadget', '--file', file);

    class GadgetSerializer extends ModelProtoSerializer(Gadget) {}
    @GrpcModelService({ service: 'gadgets.GadgetController', serializer: GadgetSerializer })
    class GadgetService extends ModelService(Gadget) {}

    const db = testDatabase();
    const app = await GrpcTestingApp.create(
      {
        imports: [
          MikroOrmModule.forRoot({ ...db.options, entities: [Gadget, Maker, Tag], registerRequestContext: false }),
          GrpcFrameworkModule.forRoot({ protoPath: file }),
        ],
        controllers: [GadgetService],
      },
      { schema: 'create', isolation: 'truncate' },
    );
    try {
      const em = app.orm.em.fork();
      const maker = em.create(Maker, { name: 'acme' });
      const tag = em.create(Tag, { label: 'new' });
      await em.flush();
      const gadgets = app.client('gadgets.GadgetController');
      const released = new Date('2024-03-04T05:06:07.000Z');
      const created = await gadgets.Create({
        name: 'widget',
        serial: '9007199254740993',
        weight: 1.5,
        price: '12.34',
        active: true,
        released_at: released, // the toolkit's clients speak messages as handlers see them
        nickname: 'w',
        color: 'GADGET_COLOR_BLUE',
        specs: { volts: 5 },
        maker: maker.id,
        tags: [tag.id],
      });
      expect(created).toMatchObject({
        name: 'widget',
        serial: '9007199254740993',
        weight: 1.5,
        price: '12.34',
        released_at: released,
        nickname: 'w',
        color: 'GADGET_COLOR_BLUE',
        specs: { volts: 5 },
        maker: maker.id,
        tags: [tag.id],
      });
      expect(created).not.toHaveProperty('rank');
      await expect(gadgets.Retrieve({ id: created.id })).resolves.toEqual(created);
      const stored = await app.orm.em.fork().findOneOrFail(Gadget, { id: created.id });
      expect(stored.color).toBe('blue'); // the entity keeps its own value
      expect(stored.specs).toEqual({ volts: 5 });
      // An unset enum (its _UNSPECIFIED zero value) leaves the entity default.
      const plain = await gadgets.Create({ name: 'plain' });
      expect(plain.color).toBe('GADGET_COLOR_RED');
      await expect(gadgets.Create({ name: 'bad', color: 7 })).rejects.toMatchObject({ code: 3 });
    } finally {
      await app.close();
      await db.dispose();
      fs.rmSync(dir, { recursive: true });
    }
  });
});

describe('grpc-framework generateproto --paged', () => {
  it('writes the List querying fields and ListPage, which a paged service serves', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paged-'));
    const file = path.join(dir, 'post.proto');
    await run(
      'generateproto',
      '--entity',
      'sample/blog/post.entity.ts:Post',
      '--fields',
      'id,title,content,created',
      '--package',
      'paged_blog',
      '--paged',
      '--file',
      file,
    );
    const text = fs.readFileSync(file, 'utf8');
    expect(text).toContain('    rpc ListPage(PostListRequest) returns (PostListPage) {}');
    expect(text).toMatch(
      /message PostListRequest \{\n(.*\n)*    string filter = 1;\n(.*\n)*    string order_by = 2;\n(.*\n)*    int32 page_size = 3;\n(.*\n)*    string page_token = 4;\n\}/,
    );
    expect(text).toContain(
      'message PostListPage {\n    repeated Post results = 1;\n    string next_page_token = 2;\n    int32 total_size = 3;\n}',
    );

    class PostSerializer extends ModelProtoSerializer(Post, { fields: ['id', 'title', 'content', 'created'] }) {}
    @GrpcModelService({
      service: 'paged_blog.PostController',
      serializer: PostSerializer,
      filterFields: { title: [':'] },
      orderingFields: ['title', 'id'],
      countTotal: true,
    })
    class PagedPostService extends PagedListModelMixin(ModelService(Post)) {}
    const db = testDatabase();
    const app = await GrpcTestingApp.create(
      {
        imports: [
          MikroOrmModule.forRoot({ ...db.options, entities: [Post], registerRequestContext: false }),
          GrpcFrameworkModule.forRoot({ protoPath: file }),
        ],
        controllers: [PagedPostService],
      },
      { schema: 'create', isolation: 'none' },
    );
    try {
      const posts = app.client('paged_blog.PostController');
      for (const title of ['b news', 'a news', 'sports']) await posts.Create({ title, content: '.' });
      const page = await posts.ListPage({ filter: 'title:"NEWS"', order_by: 'title', page_size: 1 });
      expect(page).toMatchObject({ results: [{ title: 'a news' }], total_size: 2, next_page_token: expect.any(String) });
      const next = await posts.ListPage({ filter: 'title:"NEWS"', order_by: 'title', page_token: page.next_page_token });
      expect(next).toMatchObject({ results: [{ title: 'b news' }], total_size: 2, next_page_token: '' });
    } finally {
      await app.close();
      await db.dispose();
      fs.rmSync(dir, { recursive: true });
    }
  });
});

describe('grpc-framework generateproto --presence --null-oneof', () => {
  it('makes a missing required field "required" and lets a nullable one be set back to null', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'presence-'));
    const file = path.join(dir, 'gadgets.proto');
    await run(
      'generateproto',
      '--entity',
      'test/fixtures/gadgets/gadget.entity.ts:Gadget',
      '--presence',
      '--null-oneof',
      '--package',
      'nulls',
      '--file',
      file,
    );
    const text = fs.readFileSync(file, 'utf8');
    expect(text).toContain('    optional string name = 2;');
    expect(text).toContain('    NullableString nickname = 9;');
    expect(text).toContain(
      'message NullableString {\n    oneof kind {\n        string value = 1;\n        google.protobuf.NullValue null = 2;\n    }\n}',
    );

    class GadgetSerializer extends ModelProtoSerializer(Gadget) {}
    @GrpcModelService({ service: 'nulls.GadgetController', serializer: GadgetSerializer })
    class GadgetService extends ModelService(Gadget) {}
    const db = testDatabase();
    const app = await GrpcTestingApp.create(
      {
        imports: [
          MikroOrmModule.forRoot({ ...db.options, entities: [Gadget, Maker, Tag], registerRequestContext: false }),
          GrpcFrameworkModule.forRoot({ protoPath: file }),
        ],
        controllers: [GadgetService],
      },
      { schema: 'create', isolation: 'none' },
    );
    try {
      const gadgets = app.client('nulls.GadgetController');
      await expect(gadgets.Create({ description: 'no name' })).rejects.toMatchObject({
        code: 3,
        details: expect.stringContaining('name: This field is required.'),
      });
      const created = await gadgets.Create({ name: 'widget', nickname: 'w' });
      expect(created).toMatchObject({ name: 'widget', nickname: 'w' });
      const cleared = await gadgets.Update({ ...created, nickname: null });
      expect(cleared.nickname).toBeNull();
      expect((await app.orm.em.fork().findOneOrFail(Gadget, { id: created.id })).nickname).toBeNull();
    } finally {
      await app.close();
      await db.dispose();
      fs.rmSync(dir, { recursive: true });
    }
  });
});

describe('grpc-framework generateproto --serializer', () => {
  it('writes nested messages, marks computed and write-only fields, and the proto serves the serializer', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'from-serializer-'));
    const file = path.join(dir, 'books.proto');
    await run(
      'generateproto',
      '--serializer',
      'sample/bookstore/bookstore.serializers.ts:BookSerializer',
      '--package',
      'gen_books',
      '--write-message',
      '--file',
      file,
    );
    const text = fs.readFileSync(file, 'utf8');
    expect(text).toContain('    rpc Create(BookWrite) returns (Book) {}');
    expect(text).toMatch(
      /message Book \{[^}]*\n    \/\/ Read-only: sent by the server.\n    Author author = \d+;[^}]*\n    \/\/ Read-only: computed by the server.\n    optional double average_rating = \d+;\n\}/,
    );
    // The nested author is writable: BookWrite carries it, and author_id (its alternative) has presence.
    expect(text).toMatch(
      /message BookWrite \{\n    int32 id = 1;\n(    [^\n]*\n)*    \/\/ Writable: created with this object on Create, updated in place on Update. Send this or author_id, not both.\n    Author author = \d+;\n    \/\/ Send this or author, not both.\n    optional int32 author_id = \d+;\n/,
    );
    expect(text.slice(text.indexOf('message BookWrite'))).not.toMatch(/average_rating/);
    expect(text).toContain('message Author {\n    int32 id = 1;\n    string name = 2;\n}');
    // --presence and --null-oneof apply to what a client writes, as for entities.
    const present = await run(
      'generateproto',
      '--serializer',
      'sample/bookstore/bookstore.serializers.ts:BookSerializer',
      '--presence',
      '--null-oneof',
    );
    expect(present.stdout).toMatch(/message Book \{\n    int32 id = 1;\n    optional string title = 2;\n    optional string isbn = 3;\n/);
    expect(present.stdout).toContain('    optional string price = ');
    expect(present.stdout).toContain('    optional double average_rating = '); // read-only: no presence needed, nullable: optional
    const members = await run(
      'generateproto',
      '--serializer',
      'sample/bookstore/bookstore.serializers.ts:MemberSerializer',
      '--write-message',
    );
    expect(members.stdout).toMatch(
      /message Member \{\n    int32 id = 1;\n    string email = 2;\n    string name = 3;\n    \/\/ Read-only.\n    bool is_staff = 4;\n\}/,
    );
    expect(members.stdout).toMatch(
      /message MemberWrite \{[^}]*\/\/ Write-only: read on Create and Update, never sent back.\n    string password = \d+;/,
    );

    const { BookSerializer } = await import('../../sample/bookstore/bookstore.serializers');
    const { Author } = await import('../../sample/bookstore/author.entity');
    const { Book } = await import('../../sample/bookstore/book.entity');
    const { Review } = await import('../../sample/bookstore/review.entity');
    @GrpcModelService({ service: 'gen_books.BookController', serializer: BookSerializer })
    class GeneratedBookService extends ModelService(Book) {}
    const db = testDatabase();
    const app = await GrpcTestingApp.create(
      {
        imports: [
          MikroOrmModule.forRoot({ ...db.options, entities: [Author, Book, Review], registerRequestContext: false }),
          GrpcFrameworkModule.forRoot({ protoPath: file }),
        ],
        controllers: [GeneratedBookService],
      },
      { schema: 'create', isolation: 'none' },
    );
    try {
      const author = app.orm.em.fork().create(Author, { name: 'Le Guin' });
      await app.orm.em.fork().persistAndFlush(author);
      const books = app.client('gen_books.BookController');
      const created = await books.Create({
        title: 'Tehanu',
        isbn: '9780689315954',
        author_id: author.id,
        published: new Date(0),
        price: '7.50',
      });
      expect(created).toMatchObject({ title: 'Tehanu', author_id: author.id, author: { id: author.id, name: 'Le Guin' }, price: '7.50' });
    } finally {
      await app.close();
      await db.dispose();
      fs.rmSync(dir, { recursive: true });
    }
  });
});

describe('generated protos pass buf lint', () => {
  const BUF = path.join(ROOT, '.tools', 'node_modules', '.bin', 'buf');

  it("with the STANDARD rules except the five the seed's shape requires (see test/fixtures/buf.yaml)", async () => {
    expect(fs.existsSync(BUF)).toBe(true); // installed by `npm run tools` (npm test does it first)
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'buflint-'));
    fs.copyFileSync(path.join(ROOT, 'test', 'fixtures', 'buf.yaml'), path.join(dir, 'buf.yaml'));
    await run(
      'generateproto',
      '--entity',
      'sample/blog/post.entity.ts:Post',
      '--fields',
      'id,title,content',
      '--package',
      'blog_proto',
      '--service',
      'PostController',
      '--file',
      path.join(dir, 'blog_proto', 'post.proto'),
    );
    await run('generateproto', '--entity', 'sample/account/user.entity.ts:User', '--file', path.join(dir, 'account', 'account.proto'));
    await run(
      'generateproto',
      '--entity',
      'test/fixtures/gadgets/gadget.entity.ts:Gadget',
      '--file',
      path.join(dir, 'gadgets', 'gadget.proto'),
    );
    await run(
      'generateproto',
      '--entity',
      'test/fixtures/gadgets/gadget.entity.ts:Gadget',
      '--wrappers',
      '--package',
      'wrapped',
      '--file',
      path.join(dir, 'wrapped', 'gadget.proto'),
    );
    await run(
      'generateproto',
      '--entity',
      'test/fixtures/gadgets/gadget.entity.ts:Gadget',
      '--paged',
      '--package',
      'paged',
      '--file',
      path.join(dir, 'paged', 'gadget.proto'),
    );
    await run(
      'generateproto',
      '--entity',
      'test/fixtures/gadgets/gadget.entity.ts:Gadget',
      '--presence',
      '--null-oneof',
      '--package',
      'nulls',
      '--file',
      path.join(dir, 'nulls', 'gadget.proto'),
    );
    await run(
      'generateproto',
      '--serializer',
      'sample/bookstore/bookstore.serializers.ts:BookSerializer',
      '--write-message',
      '--paged',
      '--package',
      'books',
      '--file',
      path.join(dir, 'books', 'book.proto'),
    );
    await run(
      'generateproto',
      '--serializer',
      'test/fixtures/gadgets/maker.serializers.ts:MakerSerializer',
      '--presence',
      '--package',
      'makers',
      '--file',
      path.join(dir, 'makers', 'maker.proto'),
    );
    await run(
      'generateproto',
      '--serializer',
      'test/fixtures/gadgets/maker.serializers.ts:NicknamedGadgetSerializer',
      '--presence',
      '--null-oneof',
      '--package',
      'nicknames',
      '--file',
      path.join(dir, 'nicknames', 'gadget.proto'),
    );
    expect(fs.readFileSync(path.join(dir, 'nicknames', 'gadget.proto'), 'utf8')).toMatch(
      /optional string name = 2;\n    NullableString nickname = 3;[^]*message NullableString \{/,
    );
    const lint = await promisify(execFile)(BUF, ['lint'], { cwd: dir }).catch((error) => error);
    expect({ code: lint.code ?? 0, stdout: lint.stdout, stderr: lint.stderr }).toEqual({ code: 0, stdout: '', stderr: '' });
    fs.rmSync(dir, { recursive: true });
  });
});
