import * as grpc from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { ArgumentsHost, Catch, ExceptionFilter, UseFilters } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { BaseRpcExceptionFilter, RpcException } from '@nestjs/microservices';
import { GrpcError, GrpcModelService, ObjectNotFoundError, ReadOnlyModelService } from 'nestjs-grpc-framework';
import { Observable } from 'rxjs';
import { Gadget } from '../fixtures/gadgets/gadget.entity';
import { GadgetNameSerializer, GoneService } from '../fixtures/pipeline/pipeline-examples';
import { serveTwice as serve, streamOf as stream, unaryOf as unary } from '../utils/served-twice';

const SERVICE = 'gadgets.NestedMakerController';

/** Nest's base RPC filter for everything: the framework's own mapping stays the base behaviour. */
@Catch()
class EverythingFilter extends BaseRpcExceptionFilter {
  static seen: string[] = [];
  override catch(error: unknown, host: ArgumentsHost): Observable<unknown> {
    EverythingFilter.seen.push(`${host.getType()}:${(error as Error).constructor.name}:${JSON.stringify(host.switchToRpc().getData())}`);
    return super.catch(error, host);
  }
}

/** A filter that answers instead of failing: Retrieve of a missing gadget gets a placeholder. */
@Catch(ObjectNotFoundError)
class PlaceholderFilter implements ExceptionFilter {
  catch(): { id: number; name: string } {
    return { id: 0, name: 'placeholder' };
  }
}

/** A filter that throws a GrpcError itself. */
@Catch(GrpcError)
class StreamStopFilter implements ExceptionFilter {
  catch(error: GrpcError): never {
    throw new GrpcError(status.UNAVAILABLE, `try again later (${error.message})`);
  }
}

@GrpcModelService({ service: SERVICE, serializer: GadgetNameSerializer })
class MethodFilterService extends ReadOnlyModelService(Gadget) {
  @UseFilters(PlaceholderFilter)
  override Retrieve(request: never, context: never) {
    return super.Retrieve(request, context);
  }

  /** One message, then a failure mid-stream. */
  @UseFilters(StreamStopFilter)
  override async *List(): AsyncGenerator<{ id: number; name: string }[]> {
    yield [{ id: 1, name: 'first' }];
    throw new GrpcError(status.ABORTED, 'the source went away');
  }
}

@GrpcModelService({ service: SERVICE, serializer: GadgetNameSerializer })
class PlainService extends ReadOnlyModelService(Gadget) {
  override async Retrieve(request: { id: number }) {
    if (request.id === 77) throw new RpcException({ code: status.RESOURCE_EXHAUSTED, message: 'slow down' });
    return super.Retrieve(request as never, undefined as never);
  }
}

describe.each(['socket', 'inProcess'] as const)('Nest exception filters on framework services (%s)', (channel) => {
  it('runs a class @UseFilters filter, whose RpcException payload sets the status', async () => {
    const served = await serve([GoneService]);
    try {
      const error = await unary(served.clients[channel], 'Retrieve', { id: 404 }).catch((e: grpc.ServiceError) => e);
      expect(error).toMatchObject({ code: status.FAILED_PRECONDITION, details: 'gone: Gadget: 404 not found' });
    } finally {
      await served.close();
    }
  });

  it('runs a method filter that answers instead, and a stream filter that changes the status after the messages sent', async () => {
    const served = await serve([MethodFilterService]);
    try {
      await expect(unary(served.clients[channel], 'Retrieve', { id: 404 })).resolves.toEqual({ id: 0, name: 'placeholder', maker: null });
      const listed = await stream(served.clients[channel]);
      expect(listed.messages).toEqual([{ id: 1, name: 'first', maker: null }]); // (the client's defaults: an unset message field is null)
      expect(listed.error).toMatchObject({ code: status.UNAVAILABLE, details: 'try again later (the source went away)' });
    } finally {
      await served.close();
    }
  });

  it("runs a global filter (APP_FILTER) extending BaseRpcExceptionFilter, with the framework's mapping as its base", async () => {
    EverythingFilter.seen = [];
    const served = await serve([PlainService], { providers: [{ provide: APP_FILTER, useClass: EverythingFilter }] });
    try {
      // An error Nest's base filter does not know: the framework maps it (NOT_FOUND, not INTERNAL).
      await expect(unary(served.clients[channel], 'Retrieve', { id: 404 })).rejects.toMatchObject({
        code: status.NOT_FOUND,
        details: 'Gadget: 404 not found',
      });
      // An RpcException: Nest's base filter sends its payload, which sets the status.
      await expect(unary(served.clients[channel], 'Retrieve', { id: 77 })).rejects.toMatchObject({
        code: status.RESOURCE_EXHAUSTED,
        details: 'slow down',
      });
      expect(EverythingFilter.seen).toEqual(['rpc:ObjectNotFoundError:{"id":404}', 'rpc:RpcException:{"id":77}']);
    } finally {
      await served.close();
    }
  });
});
