import { describePlan } from '../../lib/plan/describe-plan';
import type { EntityFacts, ReadableFieldFacts, SerializerFacts, ServiceFacts } from '../../lib/plan/plan-facts';
import { decidePlan } from '../../lib/plan/service-plan';

/** A post entity: id, title, body (plain columns), author (a to-one relation), tags (a collection), summary (a formula). */
const post: EntityFacts = {
  className: 'Post',
  primaryKeys: ['id'],
  properties: {
    id: { scalar: true, plainColumn: true },
    title: { scalar: true, plainColumn: true },
    body: { scalar: true, plainColumn: true },
    created: { scalar: true, plainColumn: true },
    author: { scalar: false, plainColumn: true },
    tags: { scalar: false, plainColumn: false },
    summary: { scalar: true, plainColumn: false },
  },
};
const author: EntityFacts = {
  className: 'Author',
  primaryKeys: ['id'],
  properties: {
    id: { scalar: true, plainColumn: true },
    name: { scalar: true, plainColumn: true },
    books: { scalar: false, plainColumn: false },
  },
};

const field = (name: string, more: Partial<ReadableFieldFacts> = {}): ReadableFieldFacts => ({
  name,
  property: name,
  collection: false,
  throughRelations: false,
  ...more,
});

const AuthorSerializer: SerializerFacts = {
  name: 'AuthorSerializer',
  model: true,
  entity: author,
  overridden: [],
  readable: [field('id'), field('name')],
  writable: [{ name: 'name', property: 'name', collection: false }],
  nestedWrites: [],
};
const PostSerializer: SerializerFacts = {
  name: 'PostSerializer',
  model: true,
  entity: post,
  overridden: [],
  readable: [field('id'), field('title'), field('body')],
  writable: [
    { name: 'title', property: 'title', collection: false },
    { name: 'body', property: 'body', collection: false },
  ],
  nestedWrites: [],
};

const service = (more: Partial<ServiceFacts> = {}): ServiceFacts => ({
  name: 'PostService',
  leanReads: true,
  writeTransactions: 'when-needed',
  overridden: [],
  entity: post,
  serializer: PostSerializer,
  orderProperties: [],
  flushIsAtomic: true,
  ...more,
});
const serializer = (more: Partial<SerializerFacts>): SerializerFacts => ({ ...PostSerializer, ...more });
const ACTIONS = ['List', 'Create', 'Retrieve', 'Update', 'PartialUpdate', 'Destroy'];

describe('decidePlan', () => {
  describe('reads', () => {
    it('reads the columns a plain serializer sends, the primary key and the order keys', () => {
      expect(decidePlan(service({ orderProperties: ['created', 'notAProperty'] })).reads).toEqual({
        path: 'columns',
        reasons: [],
        columns: { entity: 'Post', properties: ['id', 'title', 'body', 'created'], related: [] },
      });
    });

    it('reads nested to-one objects with readers of their own', () => {
      const plan = decidePlan(
        service({ serializer: serializer({ readable: [field('title'), field('author', { nested: AuthorSerializer })] }) }),
      );
      expect(plan.reads.columns).toEqual({
        entity: 'Post',
        properties: ['id', 'title'],
        related: [{ property: 'author', columns: { entity: 'Author', properties: ['id', 'name'], related: [] } }],
      });
    });

    it.each<[string, Partial<ServiceFacts>, string[]]>([
      ['leanReads is off', { leanReads: false }, ['leanReads is false']],
      ['query hooks are replaced', { overridden: ['getQueryset', 'getObject'] }, ['getQueryset is overridden', 'getObject is overridden']],
      ['there is no serializer', { serializer: undefined }, ['no serializer']],
      [
        'the serializer is not a model serializer',
        { serializer: serializer({ model: false }) },
        ['PostSerializer is not a ModelProtoSerializer'],
      ],
      [
        'the serializer replaces what it reads with',
        { serializer: serializer({ overridden: ['save', 'toRepresentation', 'data'] }) },
        ['PostSerializer overrides toRepresentation, data'],
      ],
      [
        'it sends collections',
        { serializer: serializer({ readable: [field('title'), field('tags', { collection: true })] }) },
        ['PostSerializer sends collections (tags)'],
      ],
      [
        'it sends computed fields',
        { serializer: serializer({ readable: [field('title'), field('wordCount')] }) },
        ['PostSerializer sends fields that are not entity properties (wordCount)'],
      ],
      [
        'it sends fields through relations',
        { serializer: serializer({ readable: [field('authorName', { property: 'author', throughRelations: true })] }) },
        ['PostSerializer sends fields read through relations (authorName)'],
      ],
      [
        'a nested serializer reads more than columns',
        {
          serializer: serializer({
            readable: [field('author', { nested: { ...AuthorSerializer, readable: [field('books', { collection: true })] } })],
          }),
        },
        ['PostSerializer sends nested objects (author: AuthorSerializer sends collections (books))'],
      ],
      [
        'a field is not a plain column',
        { serializer: serializer({ readable: [field('title'), field('summary')] }) },
        ['summary is not a plain column (formula, lazy, embedded or not persisted)'],
      ],
      [
        'the entity cannot be read as columns',
        {
          entity: { ...post, columnsReason: 'Post has MikroORM filters' },
          serializer: serializer({ entity: { ...post, columnsReason: 'Post has MikroORM filters' } }),
        },
        ['Post has MikroORM filters'],
      ],
    ])('loads entities when %s, and says why', (_when, facts, reasons) => {
      expect(decidePlan(service(facts)).reads).toEqual({ path: 'entities', reasons });
    });
  });

  describe('writes', () => {
    it('writes a Create of a plain serializer as one statement of an unmanaged object, and Update and Destroy in a transaction', () => {
      const plan = decidePlan(service());
      expect(plan.writes.Create).toEqual({ path: 'one-statement', reasons: [] });
      expect(plan.create).toEqual({ path: 'unmanaged', reasons: [] });
      for (const action of ['Update', 'PartialUpdate', 'Destroy'] as const) {
        expect(plan.writes[action]).toEqual({ path: 'transaction', reasons: ['it reads the row it changes, locked until it commits'] });
      }
    });

    it.each<[string, Partial<ServiceFacts>, string, string]>([
      ["writeTransactions is 'always'", { writeTransactions: 'always' }, 'transaction', "writeTransactions is 'always'"],
      ['performCreate is replaced', { overridden: ['performCreate'] }, 'transaction', 'performCreate is overridden'],
      [
        'a flush has no transaction of its own',
        { flushIsAtomic: false },
        'transaction',
        "MikroORM's flush has no transaction of its own (implicitTransactions is off)",
      ],
      ['there is no serializer', { serializer: undefined }, 'transaction', 'no serializer'],
      [
        'the serializer is no model serializer',
        { serializer: serializer({ model: false }) },
        'transaction',
        'PostSerializer is not a ModelProtoSerializer',
      ],
      [
        'the serializer replaces how it saves',
        { serializer: serializer({ overridden: ['update', 'save'] }) },
        'transaction',
        'PostSerializer overrides save, update',
      ],
      ['the serializer saves another entity', { serializer: AuthorSerializer }, 'transaction', 'AuthorSerializer saves another entity'],
      [
        'the serializer writes nested objects',
        { serializer: serializer({ nestedWrites: ['author'] }) },
        'transaction',
        'PostSerializer writes nested objects (author), rows of their own',
      ],
      [
        'the serializer replaces validate',
        { serializer: serializer({ overridden: ['validate'] }) },
        'one-flush',
        'PostSerializer overrides validate(), which may change other rows',
      ],
      [
        'the serializer writes collections',
        { serializer: serializer({ writable: [{ name: 'tags', property: 'tags', collection: true }] }) },
        'one-flush',
        'PostSerializer writes collections (tags), rows of their own',
      ],
    ])('runs a Create slower when %s, and says why', (_when, facts, path, reason) => {
      const plan = decidePlan(service(facts));
      expect(plan.writes.Create).toEqual({ path, reasons: [reason] });
      // Only a one-statement Create inserts unmanaged objects.
      expect(plan.create).toEqual({ path: 'entity', reasons: [] });
    });

    it.each<[string, Partial<ServiceFacts>, string[]]>([
      ['Create is replaced', { overridden: ['Create'] }, ['Create is overridden']],
      [
        'the entity needs its constructor',
        { entity: { ...post, unmanagedReason: "Post's constructor sets created" } },
        ["Post's constructor sets created"],
      ],
      [
        'the response sends nested objects',
        { serializer: serializer({ readable: [field('title'), field('author', { nested: AuthorSerializer })] }) },
        ['PostSerializer sends nested objects (author)'],
      ],
      [
        'the response reads more than columns',
        { serializer: serializer({ readable: [field('wordCount')] }) },
        ['PostSerializer sends fields that are not entity properties (wordCount)'],
      ],
      [
        'it writes relations',
        { serializer: serializer({ writable: [{ name: 'author', property: 'author', collection: false }] }) },
        ['PostSerializer writes relations (author)'],
      ],
    ])('makes a managed entity for a one-statement Create when %s', (_when, facts, reasons) => {
      const plan = decidePlan(service(facts));
      expect(plan.writes.Create.path).toBe('one-statement');
      expect(plan.create).toEqual({ path: 'entity', reasons });
    });
  });

  describe('describePlan', () => {
    it('says, per action the service has, the path and why not a faster one', () => {
      expect(describePlan(decidePlan(service()), ACTIONS)).toEqual([
        'List: reads columns straight into messages',
        'Create: one statement, without a transaction (an INSERT compiled once, from the validated data without a managed entity)',
        'Retrieve: reads columns straight into messages',
        'Update: in a transaction (it reads the row it changes, locked until it commits)',
        'PartialUpdate: in a transaction (it reads the row it changes, locked until it commits)',
        'Destroy: in a transaction (it reads the row it changes, locked until it commits)',
      ]);
      expect(describePlan(decidePlan(service({ leanReads: false, overridden: ['Create'] })), ['Retrieve', 'Create', 'BulkCreate'])).toEqual(
        [
          'Retrieve: loads entities (leanReads is false)',
          'Create: one statement, without a transaction (an INSERT compiled once, of a managed entity: Create is overridden)',
        ],
      );
      const flushed = decidePlan(service({ entity: { ...post, insertReason: 'Post has a version property' } }));
      expect(describePlan(flushed, ['Create'])).toEqual([
        "Create: one statement, without a transaction, through MikroORM's flush (Post has a version property)",
      ]);
    });
  });
});
