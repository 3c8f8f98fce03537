import { Metadata, status } from '@grpc/grpc-js';
import type { EntityManager } from '@mikro-orm/core';
import { JwtService } from '@nestjs/jwt';
import { GrpcModelService } from 'nestjs-grpc-framework';
import { Gadget, Maker } from '../fixtures/gadgets/gadget.entity';
import { GuardedGadgetService, guardedOptions, JWT_SECRET, OwnGadgetsService } from '../fixtures/pipeline/auth-examples';
import { Served, serveTwice, streamOf, unaryOf } from '../utils/served-twice';

const jwt = new JwtService({ secret: JWT_SECRET });
const bearer = (token: string) => {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return metadata;
};
const tokenOf = (claims: object, options: { expiresIn?: number; issuer?: string; secret?: string } = {}) =>
  jwt.sign(claims, {
    issuer: options.issuer ?? 'gadget-tests',
    expiresIn: options.expiresIn ?? 60,
    ...(options.secret ? { secret: options.secret } : {}),
  });

/** Two makers with two gadgets each: ids 1-2 are maker 1's, 3-4 maker 2's. */
async function seed(em: EntityManager): Promise<void> {
  const makers = [em.create(Maker, { name: 'one' }), em.create(Maker, { name: 'two' })];
  await em.flush();
  em.persist([1, 2, 3, 4].map((i) => Object.assign(new Gadget(), { name: `g${i}`, maker: makers[i <= 2 ? 0 : 1] })));
  await em.flush();
}

/** A service like GuardedGadgetService that hides gadgets of other makers instead of refusing them. */
@GrpcModelService({ ...guardedOptions, hideForbiddenObjects: true })
class HidingGadgetService extends GuardedGadgetService {}

describe.each(['socket', 'inProcess'] as const)('authentication and permissions (%s)', (channel) => {
  let served: Served;
  beforeAll(async () => {
    served = await serveTwice([GuardedGadgetService], { service: 'gadgets.GuardedController', seed });
  });
  afterAll(() => served.close());
  const call = (method: string, request: object, metadata?: Metadata) => unaryOf(served.clients[channel], method, request, metadata);

  it('lets anyone list (AllowAny), and asks an anonymous caller for the credential Retrieve needs', async () => {
    expect((await streamOf(served.clients[channel])).messages).toHaveLength(4);
    await expect(call('Retrieve', { id: 1 })).rejects.toMatchObject({
      code: status.UNAUTHENTICATED,
      details: 'Authentication credentials were not provided: send a bearer token (authorization: Bearer <JWT>).',
    });
  });

  it('refuses expired, wrongly signed, wrongly issued and malformed tokens alike, without saying why', async () => {
    const tokens = [
      tokenOf({ sub: 'ann', maker: 1 }, { expiresIn: -10 }),
      tokenOf({ sub: 'ann', maker: 1 }, { secret: 'another secret of at least thirty-two bytes' }),
      tokenOf({ sub: 'ann', maker: 1 }, { issuer: 'somebody else' }),
      'not.a.jwt',
    ];
    for (const token of tokens) {
      await expect(call('Retrieve', { id: 1 }, bearer(token))).rejects.toMatchObject({
        code: status.UNAUTHENTICATED,
        details: 'Invalid bearer token.',
      });
    }
  });

  it("checks the object: its own gadget is sent, another maker's is PERMISSION_DENIED", async () => {
    const ann = bearer(tokenOf({ sub: 'ann', maker: 1 }));
    await expect(call('Retrieve', { id: 2 }, ann)).resolves.toEqual({ id: 2, name: 'g2' });
    await expect(call('Retrieve', { id: 3 }, ann)).rejects.toMatchObject({
      code: status.PERMISSION_DENIED,
      details: 'This gadget belongs to another maker.',
    });
    await expect(call('Retrieve', { id: 99 }, ann)).rejects.toMatchObject({ code: status.NOT_FOUND });
  });

  it('lets only admins destroy', async () => {
    await expect(call('Destroy', { id: 4 }, bearer(tokenOf({ sub: 'ann', maker: 2 })))).rejects.toMatchObject({
      code: status.PERMISSION_DENIED,
      details: 'Only admins may do this.',
    });
    await expect(call('Destroy', { id: 4 })).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
    await expect(call('Destroy', { id: 4 }, bearer(tokenOf({ sub: 'root', role: 'admin' })))).resolves.toEqual({});
    expect((await streamOf(served.clients[channel])).messages).toHaveLength(3);
  });
});

describe('hideForbiddenObjects', () => {
  it('answers NOT_FOUND, as for a missing object, for an object the caller may not see', async () => {
    const served = await serveTwice([HidingGadgetService], { service: 'gadgets.GuardedController', seed });
    try {
      const ann = bearer(tokenOf({ sub: 'ann', maker: 1 }));
      for (const client of Object.values(served.clients)) {
        await expect(unaryOf(client, 'Retrieve', { id: 3 }, ann)).rejects.toMatchObject({
          code: status.NOT_FOUND,
          details: 'Gadget: 3 not found',
        });
        await expect(unaryOf(client, 'Retrieve', { id: 1 }, ann)).resolves.toEqual({ id: 1, name: 'g1' });
      }
    } finally {
      await served.close();
    }
  });
});

describe('querysets scoped to the caller', () => {
  it("lists only the gadgets of the caller's maker (getQueryset reads this.user)", async () => {
    const served = await serveTwice([OwnGadgetsService], { service: 'gadgets.GuardedController', seed });
    try {
      for (const client of Object.values(served.clients)) {
        const listed = await streamOf(client, bearer(tokenOf({ sub: 'bo', maker: 2 })));
        expect(listed).toEqual({
          messages: [
            { id: 3, name: 'g3' },
            { id: 4, name: 'g4' },
          ],
        });
        expect((await streamOf(client)).error).toMatchObject({ code: status.UNAUTHENTICATED });
      }
    } finally {
      await served.close();
    }
  });
});
