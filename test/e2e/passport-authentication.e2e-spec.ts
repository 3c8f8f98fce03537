import * as grpc from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { Gadget } from '../fixtures/gadgets/gadget.entity';
import { KeyedGadgetService } from '../fixtures/pipeline/passport-examples';
import { Served, serveTwice, unaryOf } from '../utils/served-twice';

/** A Passport strategy (passport-http-bearer) as a service's authenticator. */
describe('PassportAuthenticator, over a socket and in process', () => {
  let served: Served;

  beforeAll(async () => {
    served = await serveTwice([KeyedGadgetService], {
      service: 'gadgets.LeanController',
      seed: async (em) => void (await em.insertMany(Gadget, [{ id: 1, name: 'lamp' }] as Gadget[])),
    });
  });
  afterAll(() => served.close());

  const withKey = (key: string) => {
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `Bearer ${key}`);
    return metadata;
  };
  const outcome = (call: Promise<unknown>) =>
    call.then(
      (reply) => ({ reply }),
      (e: grpc.ServiceError) => ({ code: e.code, details: e.details }),
    );

  it.each(['socket', 'inProcess'] as const)(
    'lets in a key the strategy accepts, refuses one it fails, and asks for one (%s)',
    async (way) => {
      const client = served.clients[way];
      await expect(outcome(unaryOf(client, 'Retrieve', { id: 1 }, withKey('key-of-ada')))).resolves.toMatchObject({
        reply: { id: 1, name: 'lamp' },
      });
      await expect(outcome(unaryOf(client, 'Retrieve', { id: 1 }, withKey('stolen')))).resolves.toEqual({
        code: status.UNAUTHENTICATED,
        details: 'Invalid credentials.',
      });
      await expect(outcome(unaryOf(client, 'Retrieve', { id: 1 }))).resolves.toEqual({
        code: status.UNAUTHENTICATED,
        details: 'Authentication credentials were not provided: send an API key (authorization: Bearer <key>).',
      });
    },
  );

  it('refuses two credentials rather than letting the strategy see only the first (in process)', async () => {
    const metadata = withKey('key-of-ada');
    metadata.add('authorization', 'Bearer stolen');
    await expect(outcome(unaryOf(served.clients.inProcess, 'Retrieve', { id: 1 }, metadata))).resolves.toEqual({
      code: status.UNAUTHENTICATED,
      details: 'Send one authorization credential, not 2.',
    });
  });
});
