import * as grpc from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { ArgumentsHost, Catch, Controller, UseFilters } from '@nestjs/common';
import { BaseRpcExceptionFilter, GrpcMethod, GrpcStreamCall, RpcException } from '@nestjs/microservices';
import { Observable, throwError } from 'rxjs';
import { GenericService, GrpcFrameworkModule, GrpcModelService, ListModelMixin, RetrieveModelMixin } from 'nestjs-grpc-framework';
import { GrpcTestingApp } from 'nestjs-grpc-framework/testing';
import { Gadget } from '../fixtures/gadgets/gadget.entity';
import { GadgetNameSerializer } from '../fixtures/gadgets/maker.serializers';
import { HeroesController } from '../fixtures/pipeline/heroes.controller';
import { gadgetOrm, gadgetProtos, gadgetStartupError } from '../utils/gadget-app';
import { testDatabase } from '../utils/test-database';
import { Served, serveTwice, streamOf, unaryOf } from '../utils/served-twice';

@GrpcModelService({ service: 'gadgets.LeanController', serializer: GadgetNameSerializer })
class GadgetService extends ListModelMixin(RetrieveModelMixin(GenericService(Gadget, { orderBy: { id: 'asc' } }))) {}

type Client = grpc.Client & Record<string, Function>;
const both = ['socket', 'inProcess'] as const;

describe('@nestjs/microservices controllers beside framework services, on one port and in process', () => {
  let served: Served;
  let heroes: Record<(typeof both)[number], Client>;

  beforeAll(async () => {
    served = await serveTwice([GadgetService, HeroesController], {
      service: 'gadgets.LeanController',
      seed: async (em) =>
        void (await em.insertMany(Gadget, [
          { id: 1, name: 'lamp' },
          { id: 2, name: 'kettle' },
        ] as Gadget[])),
    });
    heroes = served.clientsOf('hero.HeroesService');
  });
  afterAll(() => served.close());

  const keyed = () => {
    const metadata = new grpc.Metadata();
    metadata.set('x-hero-key', 'open sesame');
    return metadata;
  };
  const failure = (call: Promise<unknown>) =>
    call.then(
      () => undefined,
      (e: grpc.ServiceError) => ({ code: e.code, details: e.details }),
    );

  it.each(both)('serves the framework service and the @GrpcMethod controller on the same server (%s)', async (way) => {
    expect((await streamOf(served.clients[way])).messages).toMatchObject([
      { id: 1, name: 'lamp' },
      { id: 2, name: 'kettle' },
    ]);
    await expect(unaryOf(heroes[way], 'FindOne', { id: 2 }, keyed())).resolves.toEqual({ id: 2, name: 'Grace' });
  });

  it.each(both)('runs the guard with the metadata as its context, and maps an RpcException to its status (%s)', async (way) => {
    await expect(failure(unaryOf(heroes[way], 'FindOne', { id: 2 }))).resolves.toEqual({
      code: status.PERMISSION_DENIED,
      details: 'Forbidden resource',
    });
    await expect(failure(unaryOf(heroes[way], 'FindOne', { id: 9 }, keyed()))).resolves.toEqual({
      code: status.NOT_FOUND,
      details: 'No hero 9',
    });
  });

  it.each(both)('writes each value of an Observable to a server stream (%s)', async (way) => {
    const call = heroes[way].FindAll({}) as grpc.ClientReadableStream<unknown>;
    expect(await call.toArray()).toEqual([
      { id: 1, name: 'Ada' },
      { id: 2, name: 'Grace' },
    ]);
  });

  it.each(both)('gives @GrpcStreamMethod the requests as an Observable: client streaming and bidi (%s)', async (way) => {
    const counted = await new Promise((resolve, reject) => {
      const call = heroes[way].CountNames((error: grpc.ServiceError | null, reply: unknown) =>
        error ? reject(error) : resolve(reply),
      ) as grpc.ClientWritableStream<object>;
      for (const name of ['a', 'b', 'c']) call.write({ name });
      call.end();
    });
    expect(counted).toEqual({ count: 3 });
    const greet = heroes[way].Greet() as grpc.ClientDuplexStream<object, unknown>;
    greet.write({ id: 1, name: 'Ada' });
    greet.write({ id: 2, name: 'Grace' });
    greet.end();
    expect(await greet.toArray()).toEqual([
      { id: 1, name: 'Hello, Ada' },
      { id: 2, name: 'Hello, Grace' },
    ]);
  });

  it.each(both)('gives @GrpcStreamCall the call: data events, a callback, write() and end() (%s)', async (way) => {
    const tallied = await new Promise((resolve, reject) => {
      const call = heroes[way].Tally((error: grpc.ServiceError | null, reply: unknown) =>
        error ? reject(error) : resolve(reply),
      ) as grpc.ClientWritableStream<object>;
      for (const name of ['a', 'b']) call.write({ name });
      call.end();
    });
    expect(tallied).toEqual({ count: 2 });
    const roster = heroes[way].Roster() as grpc.ClientDuplexStream<object, unknown>;
    const first = new Promise((resolve) => roster.once('data', resolve));
    roster.write({ id: 1, name: 'Ada' });
    await expect(first).resolves.toEqual({ id: 1, name: 'ADA' }); // answered before the stream ends
    roster.write({ id: 2, name: 'Grace' });
    roster.end();
    expect(await roster.toArray()).toEqual([{ id: 2, name: 'GRACE' }]);
  });
});

/** A Nest RPC exception filter that reads the metadata from its host, as on Nest's transport. */
@Catch(RpcException)
class TracedFilter extends BaseRpcExceptionFilter {
  override catch(exception: RpcException, host: ArgumentsHost): Observable<never> {
    const trace = host.switchToRpc().getContext<grpc.Metadata>().get('x-trace')[0];
    const { code, message } = exception.getError() as { code: number; message: string };
    return throwError(() => ({ code, message: `${message} (trace ${String(trace)})` }));
  }
}

@UseFilters(TracedFilter)
@Controller()
class TracedHeroesController extends HeroesController {}

describe('@nestjs/microservices exception filters', () => {
  it.each(both)("receive the metadata as their host's RPC context (%s)", async (way) => {
    const served = await serveTwice([GadgetService, TracedHeroesController], { service: 'gadgets.LeanController' });
    try {
      const metadata = new grpc.Metadata();
      metadata.set('x-hero-key', 'open sesame');
      metadata.set('x-trace', 'abc');
      const error = await unaryOf(served.clientsOf('hero.HeroesService')[way], 'FindOne', { id: 7 }, metadata).catch(
        (e: grpc.ServiceError) => e,
      );
      expect({ code: (error as grpc.ServiceError).code, details: (error as grpc.ServiceError).details }).toEqual({
        code: status.NOT_FOUND,
        details: 'No hero 7 (trace abc)',
      });
    } finally {
      await served.close();
    }
  });
});

describe('@nestjs/microservices controllers at start-up', () => {
  const protos = gadgetProtos('gadget-reads.proto', 'heroes.proto');

  it('refuses a @GrpcMethod whose service or rpc is not in the loaded protos, or decorated for the wrong shape', async () => {
    @Controller()
    class Strays {
      @GrpcMethod('VillainsService', 'FindOne') villain(): void {}
      @GrpcMethod('HeroesService', 'Fly') fly(): void {}
      @GrpcMethod('HeroesService', 'CountNames') count(): void {}
      @GrpcStreamCall('HeroesService', 'FindOne') find(): void {}
    }
    const message = await gadgetStartupError([Strays], protos);
    expect(message).toContain(
      "Strays.villain (@GrpcMethod('VillainsService', 'FindOne')): no service VillainsService in the loaded protos",
    );
    expect(message).toContain(
      "Strays.fly (@GrpcMethod('HeroesService', 'Fly')): hero.HeroesService has no rpc Fly (its rpcs: FindOne, FindAll, CountNames, Greet, Tally, Roster).",
    );
    expect(message).toContain(
      "Strays.count (@GrpcMethod('HeroesService', 'CountNames')): CountNames is client streaming: decorate it with @GrpcStreamMethod.",
    );
    expect(message).toContain(
      "Strays.find (@GrpcStreamCall('HeroesService', 'FindOne')): FindOne takes one request: decorate it with @GrpcMethod.",
    );
  });

  it("leaves them alone with grpcMethods: 'ignore'", async () => {
    const db = testDatabase();
    const app = await GrpcTestingApp.create(
      {
        imports: [gadgetOrm(db), GrpcFrameworkModule.forRoot({ protoPath: protos, grpcMethods: 'ignore' })],
        controllers: [GadgetService, HeroesController],
      },
      { schema: 'create', isolation: 'none' },
    );
    try {
      await expect(app.client('hero.HeroesService').FindOne({ id: 1 })).rejects.toMatchObject({ code: status.UNIMPLEMENTED });
    } finally {
      await app.close();
      await db.dispose();
    }
  });
});
