import { Entity, Enum, ManyToOne, MikroORM, PrimaryKey, Property } from '@mikro-orm/core';
import { BetterSqliteDriver } from '@mikro-orm/better-sqlite';
import { status } from '@grpc/grpc-js';
import { Exclude, Expose, Transform, Type } from 'class-transformer';
import { IsIn, Length } from 'class-validator';
import {
  GrpcModelService,
  ModelProtoSerializer,
  ModelProtoSerializerBase,
  ModelService,
  ProtoField,
  ProtoSerializer,
  ValidationFailedError,
  ComputedField,
} from 'nestjs-grpc-framework';
import { planFactsOf } from '../../lib/planning/plan-facts-of';
import { decidePlan } from '../../lib/plan/service-plan';
import { useEntityMetadata } from '../../lib/serializers/entity-metadata-source';

enum Color {
  Red = 'red',
  Blue = 'blue',
}

@Entity()
class Author {
  @PrimaryKey() id!: number;
  @Property({ length: 50, unique: true }) name!: string;
}

@Entity()
class Note {
  @PrimaryKey() id!: number;
  @Property() message!: string;
}

@Entity()
class Article {
  @PrimaryKey() id!: number;
  @Property({ length: 10 }) title!: string;
  @Property({ type: 'text', nullable: true }) body?: string | null;
  @Property({ type: 'bigint' }) views: string = '0';
  @Property({ type: 'double' }) score: number = 0;
  @Property() published: boolean = false;
  @Enum(() => Color) color: Color = Color.Red;
  @Property({ type: 'json', nullable: true }) extra?: object;
  @ManyToOne(() => Author, { nullable: true }) author?: Author | null;
  @Property({ onCreate: () => new Date() }) createdAt?: Date;
}

class ArticleSerializer extends ModelProtoSerializer(Article) {
  @IsIn(['red'], { message: 'Only red articles for now.' })
  color!: Color;
}

class PersonSerializer extends ProtoSerializer {
  @ProtoField({ kind: 'string', maxLength: 10 }) name!: string;
  @ProtoField({ kind: 'string', allowBlank: true }) @Length(3, 20) nickname!: string;
  @ProtoField({ kind: 'integer', readOnly: true }) id!: number;
}

describe('serializers', () => {
  let orm: MikroORM;

  beforeAll(async () => {
    orm = await MikroORM.init({ driver: BetterSqliteDriver, dbName: ':memory:', entities: [Article, Author, Note] });
    await orm.getSchemaGenerator().createSchema();
    useEntityMetadata(orm.getMetadata());
  });
  afterAll(() => orm.close());

  describe('ModelProtoSerializer field derivation', () => {
    it('derives kinds, lengths, nullability, read-only keys and proto names from the entity', () => {
      const fields = Object.fromEntries(ArticleSerializer.spec().fields.map((f) => [f.property, f]));
      expect(Object.keys(fields)).toEqual(['id', 'title', 'body', 'views', 'score', 'published', 'color', 'extra', 'author', 'createdAt']);
      expect(fields.id).toMatchObject({ kind: 'integer', readOnly: true, required: false });
      expect(fields.title).toMatchObject({ kind: 'string', maxLength: 10, required: true, nullable: false });
      expect(fields.body).toMatchObject({ kind: 'text', nullable: true, required: false, maxLength: 262144 }); // text without a length: the default
      expect(fields.views).toMatchObject({ kind: 'bigint' });
      expect(fields.score).toMatchObject({ kind: 'float' });
      expect(fields.published).toMatchObject({ kind: 'boolean' });
      expect(fields.color).toMatchObject({ kind: 'enum', choices: ['red', 'blue'] });
      expect(fields.extra).toMatchObject({ kind: 'json', nullable: true });
      expect(fields.author).toMatchObject({ kind: 'relation', target: { entityName: 'Author', primaryKey: 'id' } });
      expect(fields.createdAt).toMatchObject({ kind: 'date', readOnly: true, protoName: 'created_at' });
      const authorFields = Object.fromEntries(
        ModelProtoSerializer(Author)
          .spec()
          .fields.map((f) => [f.property, f]),
      );
      expect(authorFields.name).toMatchObject({ unique: true, maxLength: 50 });
    });

    it('honours fields, exclude, readOnlyFields and fieldOptions', () => {
      const Picked = ModelProtoSerializer(Article, { fields: ['id', 'title'], readOnlyFields: ['title'] });
      expect(Picked.spec().fields.map((f) => [f.property, f.readOnly])).toEqual([
        ['id', true],
        ['title', true],
      ]);
      const Excluding = ModelProtoSerializer(Article, { exclude: ['extra', 'author'], fieldOptions: { title: { maxLength: 3 } } });
      const names = Excluding.spec().fields.map((f) => f.property);
      expect(names).not.toContain('extra');
      expect(Excluding.spec().fields.find((f) => f.property === 'title')?.maxLength).toBe(3);
    });

    it('serializes an entity to a message with proto names and relation ids', () => {
      const em = orm.em.fork();
      const author = em.create(Author, { id: 7, name: 'ann' });
      const article = em.create(Article, {
        id: 1,
        title: 'hello',
        views: '9007199254740993',
        author,
        score: 0,
        published: false,
        color: Color.Red,
      });
      const message = new ArticleSerializer(article).message;
      expect(message).toMatchObject({ id: 1, title: 'hello', views: '9007199254740993', author: 7, body: null });
      expect(new ArticleSerializer([article, article], { many: true }).messages).toHaveLength(2);
    });

    it('validates a message: required fields, read-only fields ignored, class-validator rules added', async () => {
      const serializer = new ArticleSerializer(null, { message: { id: 99, title: '', color: 'blue', created_at: new Date() } });
      expect(await serializer.isValid()).toBe(false);
      expect(serializer.errors).toEqual({
        title: ['This field may not be blank.'],
        color: ['Only red articles for now.'],
      });
      const ok = new ArticleSerializer(null, { message: { id: 99, title: ' hi ', color: 'red', views: '12' } });
      expect(await ok.isValid()).toBe(true);
      expect(ok.validatedData).toEqual({ title: 'hi', color: 'red', views: '12' });
    });

    it('throws INVALID_ARGUMENT with field violations on raiseException', async () => {
      const serializer = new ArticleSerializer(null, { message: { title: 'x'.repeat(11) } });
      const error = await serializer.isValid({ raiseException: true }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationFailedError);
      expect(error).toMatchObject({
        code: status.INVALID_ARGUMENT,
        fieldViolations: [{ field: 'title', description: 'Ensure this field has no more than 10 characters.' }],
      });
    });

    it('saves through the EntityManager in its context, with relation ids and partial updates', async () => {
      const em = orm.em.fork();
      const author = em.create(Author, { name: 'bob' });
      await em.flush();
      const create = new ArticleSerializer(null, { message: { title: 'first', author: author.id }, context: { em } });
      expect(await create.isValid()).toBe(true);
      const article = (await create.save()) as Article;
      expect(article.id).toEqual(expect.any(Number));
      expect(create.message).toMatchObject({ title: 'first', author: author.id });

      const partial = new ArticleSerializer(article, { message: { title: 'second' }, partial: true, context: { em } });
      expect(await partial.isValid()).toBe(true);
      expect(partial.validatedData).toEqual({ title: 'second' });
      await partial.save();
      const reloaded = await orm.em.fork().findOneOrFail(Article, article.id);
      expect(reloaded).toMatchObject({ title: 'second', author: { id: author.id } });
    });

    it('reports a missing related row and a taken unique value', async () => {
      const em = orm.em.fork();
      em.create(Author, { name: 'taken' });
      await em.flush();
      const missing = new ArticleSerializer(null, { message: { title: 'x', author: 4242 }, context: { em } });
      expect(await missing.isValid()).toBe(false);
      expect(missing.errors).toEqual({ author: ['Invalid pk "4242" - object does not exist.'] });
      const dup = new (ModelProtoSerializer(Author))(null, { message: { name: 'taken' }, context: { em } });
      const error = await dup.isValid({ raiseException: true }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: status.ALREADY_EXISTS, message: 'name: Author with this name already exists.' });
    });

    it('decides once per service class how a write runs, from its serializer, and says why it is not the fastest', () => {
      class AuditedArticleSerializer extends ArticleSerializer {
        protected override async create(data: Record<string, unknown>): Promise<Article> {
          return super.create(data);
        }
      }
      class StampedArticleSerializer extends ArticleSerializer {
        override async save(extra: Record<string, unknown> = {}): Promise<Article> {
          return super.save({ ...extra, title: 'stamped' });
        }
      }
      const planWith = (serializer: typeof ArticleSerializer) => {
        @GrpcModelService({ service: 'x.Articles', serializer })
        class ArticleService extends ModelService(Article) {}
        return decidePlan(planFactsOf(new ArticleService(), orm.em));
      };
      expect(planWith(ArticleSerializer).writes.Create).toEqual({ path: 'one-statement', reasons: [] });
      expect(planWith(AuditedArticleSerializer).writes.Create).toEqual({
        path: 'transaction',
        reasons: ['AuditedArticleSerializer overrides create'],
      });
      // Update and Destroy read their row locked, in the transaction they write in.
      expect(planWith(StampedArticleSerializer).writes.Update).toEqual({
        path: 'transaction',
        reasons: ['it reads the row it changes, locked until it commits'],
      });
      expect(planWith(ArticleSerializer).writes.Destroy).toEqual({
        path: 'transaction',
        reasons: ['it reads the row it changes, locked until it commits'],
      });
    });
  });

  describe('ProtoSerializer', () => {
    it('takes its first argument as the instance, always: an object with a `message` field is data', () => {
      const NoteSerializer = ModelProtoSerializer(Note, { fields: ['message'] });
      const note = (message: string): Note => Object.assign(new Note(), { message });
      expect(new NoteSerializer(note('hello')).message).toEqual({ message: 'hello' });
      expect(new NoteSerializer([note('a'), note('b')], { many: true }).messages).toEqual([{ message: 'a' }, { message: 'b' }]);
      expect(() => new NoteSerializer([note('a')], { many: true }).message).toThrow(/read \.messages/);
    });

    it('reads declared fields, skips class-validator rules for allowed blanks, and maps messages', async () => {
      const serializer = new PersonSerializer(null, { message: { name: ' amy ', nickname: '', id: 5, other: 'x' } });
      expect(await serializer.isValid()).toBe(true);
      expect(serializer.validatedData).toEqual({ name: 'amy', nickname: '' });
      const short = new PersonSerializer(null, { message: { name: 'amy', nickname: 'ab' } });
      expect(await short.isValid()).toBe(false);
      expect(Object.keys(short.errors)).toEqual(['nickname']);
      expect(new PersonSerializer({ id: 1, name: 'amy', nickname: 'a' }).message).toEqual({ id: 1, name: 'amy', nickname: 'a' });
    });

    it('says what to do when used in the wrong order', async () => {
      const serializer = new PersonSerializer(null, { message: { name: 'a', nickname: 'abc' } });
      expect(() => serializer.validatedData).toThrow('call isValid() and check it returned true');
      await expect(new PersonSerializer({ name: 'a' } as never).isValid()).rejects.toThrow('isValid() needs a message');
      await serializer.isValid();
      await expect(serializer.save()).rejects.toThrow('must implement create(data)');
    });

    it('lets messageToData and dataToMessage be overridden', async () => {
      class Upper extends PersonSerializer {
        override messageToData(message: Record<string, unknown>) {
          return { ...super.messageToData(message), name: String(message.full_name ?? '') };
        }
        override dataToMessage(data: Record<string, unknown>) {
          return { full_name: String(data.name).toUpperCase() };
        }
      }
      const serializer = new Upper(null, { message: { full_name: 'zed', nickname: 'zeddy' } });
      expect(await serializer.isValid()).toBe(true);
      expect(serializer.message).toEqual({ full_name: 'ZED' });
    });
  });

  describe('write-only fields and source', () => {
    class SignupSerializer extends ProtoSerializer {
      @ProtoField({ kind: 'string' }) email!: string;
      @ProtoField({ kind: 'string', writeOnly: true, minLength: 8 }) password!: string;
      @ProtoField({ kind: 'enum', choices: ['alpha', 'beta'], writeOnly: true, required: false }) code!: string;
      @ProtoField({ kind: 'string', source: 'displayName', required: false }) @Length(2, 20) nickname!: string;
    }

    it('reads a write-only field from messages, never sends it, and keeps it out of error details', async () => {
      expect(SignupSerializer.spec().readable.map((f) => f.name)).toEqual(['email', 'nickname']);
      const ok = new SignupSerializer(null, { message: { email: 'a@b.c', password: 'long enough secret', nickname: 'zed' } });
      expect(await ok.isValid()).toBe(true);
      // Validated data is keyed by the property each field writes (`source`), as DRF's validated_data.
      expect(ok.validatedData).toEqual({ email: 'a@b.c', password: 'long enough secret', displayName: 'zed' });
      expect(ok.message).toEqual({ email: 'a@b.c', nickname: 'zed' });
      expect(new SignupSerializer({ email: 'a@b.c', password: 'x', displayName: 'zed' } as never).message).toEqual({
        email: 'a@b.c',
        nickname: 'zed',
      });

      const bad = new SignupSerializer(null, { message: { email: 'a@b.c', password: 'short', code: 'hunter22', nickname: 'z' } });
      expect(await bad.isValid()).toBe(false);
      expect(bad.errors).toEqual({
        password: ['Ensure this field has at least 8 characters.'],
        code: ['"[hidden]" is not a valid choice.'],
        nickname: ['nickname must be longer than or equal to 2 characters'],
      });
      expect(JSON.stringify(bad.errors)).not.toContain('hunter22');
    });

    it('reads a dotted source through relations, read-only, and names a path that does not exist', () => {
      const Named = ModelProtoSerializer(Article, {
        fields: ['id', 'authorName', 'writer'],
        fieldOptions: { authorName: { source: 'author.name' }, writer: { source: 'author' } },
      });
      const fields = Object.fromEntries(Named.spec().fields.map((f) => [f.name, f]));
      expect(fields.authorName).toMatchObject({
        property: 'author',
        path: ['author', 'name'],
        kind: 'string',
        readOnly: true,
        protoName: 'author_name',
      });
      expect(fields.writer).toMatchObject({ property: 'author', kind: 'relation', readOnly: false, protoName: 'writer' });
      const em = orm.em.fork();
      const author = em.create(Author, { id: 8, name: 'bea' });
      const article = em.create(Article, { id: 2, title: 'hi', author, views: '0', score: 0, published: false, color: Color.Red });
      expect(new Named(article).message).toEqual({ id: 2, author_name: 'bea', writer: 8 });
      const orphan = em.create(Article, { id: 3, title: 'hi', author: null, views: '0', score: 0, published: false, color: Color.Red });
      expect(new Named(orphan).message).toEqual({ id: 3, author_name: null, writer: null });
      expect((Named as unknown as typeof ModelProtoSerializerBase).populateFields()).toEqual(['author']);

      const Broken = ModelProtoSerializer(Article, { fields: ['id', 'authorAge'], fieldOptions: { authorAge: { source: 'author.age' } } });
      expect(() => Broken.spec()).toThrow('field "authorAge": source "author.age": Author has no property "age" (properties: id, name).');
      const Through = ModelProtoSerializer(Article, {
        fields: ['id', 'titleLength'],
        fieldOptions: { titleLength: { source: 'title.length' } },
      });
      expect(() => Through.spec()).toThrow('source "title.length": Article.title is not a to-one relation');
      const Both = ModelProtoSerializer(Article, {
        fields: ['id', 'authorName'],
        fieldOptions: { authorName: { source: 'author.name', writeOnly: true } },
      });
      expect(() => Both.spec()).toThrow(
        'field "authorName" cannot be both read-only and write-only (a dotted source, author.name, is read-only).',
      );
    });
  });

  describe('computed fields', () => {
    class ScoreSerializer extends ProtoSerializer<{ id: number; points: number[] }> {
      @ProtoField({ kind: 'integer' }) id!: number;

      @ComputedField({ kind: 'integer' })
      total(item: { points: number[] }): number {
        return item.points.reduce((sum, n) => sum + n, 0);
      }

      @ComputedField({ kind: 'float', nullable: true, batch: true })
      async rank(items: readonly { id: number }[]): Promise<(number | null)[]> {
        this.calls++;
        return items.map((item, i) => (item.id > 0 ? i + 1 : null));
      }

      calls = 0;
    }

    it('computes per object, and per batch once load() ran, read-only either way', async () => {
      expect(ScoreSerializer.spec().fields.map((f) => [f.name, f.readOnly, f.computed ?? null])).toEqual([
        ['id', false, null],
        ['total', true, 'each'],
        ['rank', true, 'batch'],
      ]);
      const items = [
        { id: 1, points: [1, 2] },
        { id: 0, points: [] },
      ];
      const serializer = new ScoreSerializer(items, { many: true });
      expect(() => serializer.messages).toThrow(
        'ScoreSerializer.rank is computed per batch: await serializer.load() before reading message(s).',
      );
      await serializer.load();
      expect(serializer.calls).toBe(1);
      expect(serializer.messages).toEqual([
        { id: 1, total: 3, rank: 1 },
        { id: 0, total: 0, rank: null },
      ]);
      expect(await new ScoreSerializer(null, { message: { id: 5, total: 99, rank: 1 } }).isValid()).toBe(true);
    });

    it('says what a batch method must return', async () => {
      class Short extends ScoreSerializer {
        override async rank(): Promise<(number | null)[]> {
          return [1];
        }
      }
      await expect(
        new Short(
          [
            { id: 1, points: [] },
            { id: 2, points: [] },
          ],
          { many: true },
        ).load(),
      ).rejects.toThrow('Short.rank must resolve with one value per object, in order (2); it gave 1.');
    });
  });

  describe('class-transformer decorators', () => {
    it('are honoured with their usual meaning, our own options winning where both speak', async () => {
      class PenName extends ProtoSerializer {
        @ProtoField({ kind: 'string' }) name!: string;
      }
      @Exclude()
      class OnlyExposed extends ProtoSerializer {
        @Expose() @ProtoField({ kind: 'string' }) shown!: string;
        @ProtoField({ kind: 'string' }) internal!: string;
      }
      class Profile extends ProtoSerializer {
        @ProtoField({ kind: 'string' }) @Exclude() internalNote!: string;
        @ProtoField({ kind: 'string' }) @Exclude({ toPlainOnly: true }) pin!: string;
        @ProtoField({ kind: 'string', required: false }) @Exclude({ toClassOnly: true }) badge!: string;
        @ProtoField({ kind: 'string' }) @Expose({ name: 'display_name' }) displayName!: string;
        @ProtoField({ kind: 'string', protoName: 'handle' }) @Expose({ name: 'ignored_name' }) nick!: string;
        @ProtoField({ kind: 'string' })
        @Transform(({ value }) => String(value).toUpperCase(), { toPlainOnly: true })
        @Transform(({ value }) => String(value).toLowerCase(), { toClassOnly: true })
        code!: string;
        @ProtoField({ required: false }) @Type(() => PenName) penName!: object;
      }
      const fields = Object.fromEntries(Profile.spec().fields.map((f) => [f.name, f]));
      expect(Object.keys(fields)).toEqual(['pin', 'badge', 'displayName', 'nick', 'code', 'penName']);
      expect(fields.pin).toMatchObject({ writeOnly: true });
      expect(fields.badge).toMatchObject({ readOnly: true });
      expect(fields.displayName).toMatchObject({ protoName: 'display_name' });
      expect(fields.nick).toMatchObject({ protoName: 'handle' }); // our protoName wins over @Expose's name
      expect(fields.penName).toMatchObject({ serializer: PenName, readOnly: true });
      expect(OnlyExposed.spec().fields.map((f) => f.name)).toEqual(['shown']);

      const incoming = new Profile(null, {
        message: { pin: '1234', display_name: 'Ann', handle: 'a', code: 'AbC', badge: 'x', internal_note: 'n' },
      });
      expect(await incoming.isValid()).toBe(true);
      expect(incoming.validatedData).toEqual({ pin: '1234', displayName: 'Ann', nick: 'a', code: 'abc' });
      const outgoing = new Profile({
        pin: '1234',
        badge: 'gold',
        displayName: 'Ann',
        nick: 'a',
        code: 'abc',
        internalNote: 'n',
        penName: { name: 'Zed', secret: 'x' },
      } as never).message;
      expect(outgoing).toEqual({ badge: 'gold', display_name: 'Ann', handle: 'a', code: 'ABC', pen_name: { name: 'Zed' } });
    });
  });
});
