import { status } from '@grpc/grpc-js';
import { Person } from '../../sample/hrm/person.entity';
import { Snippet } from '../../sample/snippets/snippet.entity';
import { badRequestOf, failureOf } from '../utils/status-details';
import { collect, GrpcClient, RunningSample, startSample, unary } from '../utils/sample-app';

describe('patterns', () => {
  let sample: RunningSample;
  beforeAll(async () => {
    sample = await startSample();
  });
  afterAll(() => sample.close());

  describe('hrm.PersonController: partial update with wrappers', () => {
    let people: GrpcClient;
    beforeAll(() => {
      people = sample.client('hrm.PersonController');
    });

    it('serves the tutorial shape', async () => {
      const amy = await unary(people, 'Create', { name: 'amy', email: 'amy@demo.com' });
      expect(amy).toEqual({ id: expect.any(Number), name: 'amy', email: 'amy@demo.com' });
      expect(await collect(people, 'List', {})).toContainEqual(amy);
      await expect(unary(people, 'Retrieve', { id: amy.id })).resolves.toEqual(amy);
      await expect(unary(people, 'Update', { id: amy.id, name: 'amy2', email: 'a2@demo.com' })).resolves.toEqual({
        id: amy.id,
        name: 'amy2',
        email: 'a2@demo.com',
      });
      await expect(unary(people, 'Destroy', { id: amy.id })).resolves.toEqual({});
    });

    it('changes only the fields that are sent', async () => {
      const bob = await unary(people, 'Create', { name: 'bob', email: 'bob@demo.com' });
      const renamed = await unary(people, 'PartialUpdate', { id: bob.id, name: { value: 'robert' } });
      expect(renamed).toEqual({ id: bob.id, name: 'robert', email: 'bob@demo.com' });
      const stored = await sample.orm.em.fork().findOneOrFail(Person, { id: bob.id as number });
      expect(stored).toMatchObject({ name: 'robert', email: 'bob@demo.com' });
    });

    it('validates the fields that are sent', async () => {
      const eve = await unary(people, 'Create', { name: 'eve', email: 'eve@demo.com' });
      const error = await failureOf(unary(people, 'PartialUpdate', { id: eve.id, email: { value: 'nope' } }));
      expect(error.code).toBe(status.INVALID_ARGUMENT);
      expect(badRequestOf(error).violations).toEqual([{ field: 'email', description: 'Enter a valid email address.', reason: 'INVALID' }]);
      const blank = await failureOf(unary(people, 'PartialUpdate', { id: eve.id, name: { value: '' } }));
      expect(badRequestOf(blank).violations[0]).toMatchObject({ field: 'name', description: 'This field may not be blank.' });
      const stored = await sample.orm.em.fork().findOneOrFail(Person, { id: eve.id as number });
      expect(stored).toMatchObject({ name: 'eve', email: 'eve@demo.com' });
    });

    it('requires name and email on create and limits them to 100 characters', async () => {
      const error = await failureOf(unary(people, 'Create', { name: 'x'.repeat(101) }));
      expect(badRequestOf(error).violations).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ field: 'name', description: 'Ensure this field has no more than 100 characters.' }),
          expect.objectContaining({ field: 'email', description: 'This field may not be blank.' }),
        ]),
      );
    });

    it('answers NOT_FOUND for a missing person', async () => {
      await expect(unary(people, 'PartialUpdate', { id: 4242, name: { value: 'x' } })).rejects.toMatchObject({
        code: status.NOT_FOUND,
        details: 'Person: 4242 not found',
      });
    });
  });

  describe('snippets.SnippetController: null through a oneof', () => {
    let snippets: GrpcClient;
    beforeAll(() => {
      snippets = sample.client('snippets.SnippetController');
    });
    const stored = (id: unknown) => sample.orm.em.fork().findOneOrFail(Snippet, { id: id as number });

    it('stores a value, null, and null for an unset oneof on create', async () => {
      const withValue = await unary(snippets, 'Create', { title: 'a', language: { value: 'python' } });
      expect(withValue).toMatchObject({ title: 'a', language: { value: 'python', kind: 'value' } });
      expect((await stored(withValue.id)).language).toBe('python');

      const withNull = await unary(snippets, 'Create', { title: 'b', language: { null: 'NULL_VALUE' } });
      expect(withNull).toMatchObject({ title: 'b', language: { null: 'NULL_VALUE', kind: 'null' } });
      expect((await stored(withNull.id)).language).toBeNull();

      const unset = await unary(snippets, 'Create', { title: 'c' });
      expect(unset.language).toMatchObject({ kind: 'null' });
      expect((await stored(unset.id)).language ?? null).toBeNull();
    });

    it('sets null, sets a value, and keeps the stored value for an unset oneof on update', async () => {
      const snippet = await unary(snippets, 'Create', { title: 'd', language: { value: 'go' } });
      await unary(snippets, 'Update', { id: snippet.id, title: 'd2' });
      expect(await stored(snippet.id)).toMatchObject({ title: 'd2', language: 'go' });
      await unary(snippets, 'Update', { id: snippet.id, title: 'd3', language: { null: 'NULL_VALUE' } });
      expect(await stored(snippet.id)).toMatchObject({ title: 'd3', language: null });
      const back = await unary(snippets, 'Update', { id: snippet.id, title: 'd4', language: { value: 'rust' } });
      expect(back).toMatchObject({ title: 'd4', language: { value: 'rust' } });
    });

    it('refuses a blank or too long language', async () => {
      const blank = await failureOf(unary(snippets, 'Create', { title: 'e', language: { value: '' } }));
      expect(badRequestOf(blank).violations).toEqual([
        expect.objectContaining({ field: 'language', description: 'This field may not be blank.' }),
      ]);
      const long = await failureOf(unary(snippets, 'Create', { title: 'e', language: { value: 'x'.repeat(21) } }));
      expect(badRequestOf(long).violations).toEqual([
        expect.objectContaining({ field: 'language', description: 'Ensure this field has no more than 20 characters.' }),
      ]);
    });
  });
});
