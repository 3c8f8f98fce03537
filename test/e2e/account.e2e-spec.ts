import { status } from '@grpc/grpc-js';
import { Group } from '../../sample/account/group.entity';
import { User } from '../../sample/account/user.entity';
import { badRequestOf, failureOf } from '../utils/status-details';
import { collect, GrpcClient, RunningSample, startSample, unary } from '../utils/sample-app';

describe('account.UserController (quickstart)', () => {
  let sample: RunningSample;
  let users: GrpcClient;
  let groupIds: number[];

  beforeAll(async () => {
    sample = await startSample();
    users = sample.client('account.UserController');
    const em = sample.orm.em.fork();
    const groups = ['staff', 'editors'].map((name) => em.create(Group, { name }));
    await em.flush();
    groupIds = groups.map((g) => g.id);
  });
  afterAll(() => sample.close());
  afterEach(async () => {
    await sample.orm.em.fork().nativeDelete(User, {});
  });

  const count = () => sample.orm.em.fork().count(User, {});

  it('creates a user with groups and returns the stored values', async () => {
    const created = await unary(users, 'Create', { username: ' tom ', email: 'tom@account.com', groups: groupIds });
    expect(created).toEqual({ id: expect.any(Number), username: 'tom', email: 'tom@account.com', groups: groupIds });
    const stored = await sample.orm.em.fork().findOneOrFail(User, { id: created.id as number }, { populate: ['groups'] });
    expect(stored.username).toBe('tom');
    expect(stored.groups.getIdentifiers()).toEqual(groupIds);
  });

  it('accepts an empty email', async () => {
    const created = await unary(users, 'Create', { username: 'nomail' });
    expect(created).toMatchObject({ username: 'nomail', email: '', groups: [] });
  });

  it('lists users newest first', async () => {
    for (const username of ['first', 'second', 'third']) await unary(users, 'Create', { username });
    const listed = await collect(users, 'List', {});
    expect(listed.map((u) => u.username)).toEqual(['third', 'second', 'first']);
  });

  it('refuses invalid fields with INVALID_ARGUMENT and BadRequest details, storing nothing', async () => {
    const error = await failureOf(unary(users, 'Create', { username: 'bad name!', email: 'not-an-email', groups: [groupIds[0], 999] }));
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(error.details).toContain('username: Enter a valid username.');
    expect(error.details).toContain('email: Enter a valid email address.');
    const details = badRequestOf(error);
    expect(details.code).toBe(status.INVALID_ARGUMENT);
    expect(details.violations).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ field: 'username', description: expect.stringContaining('Enter a valid username') }),
        expect.objectContaining({ field: 'email', description: 'Enter a valid email address.' }),
      ]),
    );
    expect(await count()).toBe(0);
  });

  it('names a missing group', async () => {
    const error = await failureOf(unary(users, 'Create', { username: 'ann', groups: [groupIds[0], 999] }));
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(badRequestOf(error).violations).toEqual([
      { field: 'groups', description: 'Invalid pk "999" - object does not exist.', reason: 'DOES_NOT_EXIST' },
    ]);
    expect(await count()).toBe(0);
  });

  it('requires a username and limits it to 150 characters', async () => {
    const blank = await failureOf(unary(users, 'Create', { username: '   ' }));
    expect(badRequestOf(blank).violations).toEqual([
      expect.objectContaining({ field: 'username', description: 'This field may not be blank.' }),
    ]);
    const long = await failureOf(unary(users, 'Create', { username: 'a'.repeat(151) }));
    expect(badRequestOf(long).violations).toEqual([
      expect.objectContaining({ field: 'username', description: 'Ensure this field has no more than 150 characters.' }),
    ]);
    await expect(unary(users, 'Create', { username: 'a'.repeat(150) })).resolves.toMatchObject({ username: 'a'.repeat(150) });
  });

  it('reports a taken username as ALREADY_EXISTS naming the field', async () => {
    await unary(users, 'Create', { username: 'dup' });
    const error = await failureOf(unary(users, 'Create', { username: 'dup' }));
    expect(error.code).toBe(status.ALREADY_EXISTS);
    expect(error.details).toBe('username: User with this username already exists.');
    expect(badRequestOf(error).violations).toEqual([
      { field: 'username', description: 'User with this username already exists.', reason: 'UNIQUE' },
    ]);
    expect(await count()).toBe(1);
  });

  it('lets exactly one of 10 concurrent creates of one username win', async () => {
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => unary(users, 'Create', { username: 'race' })));
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(9);
    for (const r of lost) expect(r.reason).toMatchObject({ code: status.ALREADY_EXISTS });
    expect(await count()).toBe(1);
  });

  it('serves 20 concurrent creates', async () => {
    const created = await Promise.all(
      Array.from({ length: 20 }, (_, i) => unary(users, 'Create', { username: `user${i}`, groups: [groupIds[i % 2]] })),
    );
    expect(new Set(created.map((u) => u.id)).size).toBe(20);
    expect(await count()).toBe(20);
  });

  it('updates a user, keeping the username unique against others only', async () => {
    const tom = await unary(users, 'Create', { username: 'tom2' });
    await unary(users, 'Create', { username: 'jerry' });
    await expect(unary(users, 'Update', { id: tom.id, username: 'tom2', email: 'a@b.co', groups: [groupIds[1]] })).resolves.toEqual({
      id: tom.id,
      username: 'tom2',
      email: 'a@b.co',
      groups: [groupIds[1]],
    });
    await expect(unary(users, 'Update', { id: tom.id, username: 'jerry' })).rejects.toMatchObject({ code: status.ALREADY_EXISTS });
  });

  it('names missing related ids in one violation that every client can receive, and caps their number', async () => {
    const ids = Array.from({ length: 600 }, (_, i) => 100_000 + i);
    const error = await failureOf(unary(users, 'Create', { username: 'many', groups: ids }, undefined, { deadline: Date.now() + 15000 }));
    const named = ids
      .slice(0, 10)
      .map((id) => `"${id}"`)
      .join(', ');
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(error.details).toBe(`groups: Invalid pks ${named} and 590 more - objects do not exist.`);
    expect(badRequestOf(error).violations).toEqual([
      { field: 'groups', description: `Invalid pks ${named} and 590 more - objects do not exist.`, reason: 'DOES_NOT_EXIST' },
    ]);
    const tooMany = await failureOf(unary(users, 'Create', { username: 'many', groups: Array.from({ length: 1001 }, (_, i) => i + 1) }));
    expect(tooMany.details).toBe('groups: Ensure this field has no more than 1000 elements.');
    expect(await count()).toBe(0);
  });
});
