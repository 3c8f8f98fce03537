import { MikroORM } from '@mikro-orm/core';
import { LEDGER_PROTO, LedgerAccount, LedgerAppModule } from '../fixtures/ledger/ledger.app';
import { collect, GrpcClient, unary } from '../utils/sample-app';
import { startApp } from '../utils/start-app';
import { testDatabase, TestDatabase } from '../utils/test-database';

describe('int64 fields over bigint columns', () => {
  let database: TestDatabase;
  let running: Awaited<ReturnType<typeof startApp>>;
  let accounts: GrpcClient;

  beforeAll(async () => {
    database = testDatabase();
    running = await startApp(LedgerAppModule.register(database.options), LEDGER_PROTO);
    await running.app.get(MikroORM).getSchemaGenerator().createSchema();
    accounts = running.client('ledger.AccountController');
  });
  afterAll(async () => {
    await running.close();
    await database.dispose();
  });

  it('keeps every digit of values past 2^53 both ways', async () => {
    const big = '9007199254740993'; // 2^53 + 1: a JavaScript number would round it
    const created = await unary(accounts, 'Create', { owner: 'ann', balance: big });
    expect(created).toEqual({ id: expect.stringMatching(/^\d+$/), owner: 'ann', balance: big });
    const stored = await running.app.get(MikroORM).em.fork().findOneOrFail(LedgerAccount, { id: created.id as string });
    expect(stored.balance).toBe(big);
    await expect(unary(accounts, 'Retrieve', { id: created.id })).resolves.toEqual(created);
    const max = '9223372036854775807';
    await expect(unary(accounts, 'Update', { id: created.id, owner: 'ann', balance: max })).resolves.toMatchObject({
      balance: max,
    });
    await expect(unary(accounts, 'Update', { id: created.id, owner: 'ann', balance: '-9223372036854775808' })).resolves.toMatchObject({
      balance: '-9223372036854775808',
    });
    expect(await collect(accounts, 'List', {})).toEqual([{ ...created, balance: '-9223372036854775808' }]);
  });
});
