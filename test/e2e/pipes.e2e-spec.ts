import { status } from '@grpc/grpc-js';
import { ArgumentMetadata, Injectable, PipeTransform } from '@nestjs/common';
import { APP_PIPE } from '@nestjs/core';
import { GrpcModelService, ReadOnlyModelService } from 'nestjs-grpc-framework';
import { Gadget } from '../fixtures/gadgets/gadget.entity';
import { GadgetNameSerializer, PipedService } from '../fixtures/pipeline/pipeline-examples';
import { serveTwice, unaryOf } from '../utils/served-twice';

@GrpcModelService({ service: 'gadgets.NestedMakerController', serializer: GadgetNameSerializer })
class ReadOnlyService extends ReadOnlyModelService(Gadget) {}

/** A global pipe (APP_PIPE): it sees every request with the handler's parameter type. */
@Injectable()
class RecordingPipe implements PipeTransform {
  static seen: string[] = [];
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    RecordingPipe.seen.push(`${metadata.type}:${metadata.metatype?.name}:${JSON.stringify(value)}`);
    return value;
  }
}

describe.each(['socket', 'inProcess'] as const)('Nest pipes on framework services (%s)', (channel) => {
  it('runs @UsePipes(ValidationPipe) on the request of a hand-written method: a DTO instance in, rule violations as INVALID_ARGUMENT', async () => {
    const served = await serveTwice([PipedService]);
    try {
      await expect(unaryOf(served.clients[channel], 'Retrieve', { id: 5 })).resolves.toEqual({ id: 5, name: 'gadget #5', maker: null });
      const error = await unaryOf(served.clients[channel], 'Retrieve', { id: 0 }).catch((e) => e);
      expect(error).toMatchObject({ code: status.INVALID_ARGUMENT, details: 'id must not be less than 1' });
    } finally {
      await served.close();
    }
  });

  it('runs global pipes (APP_PIPE) before mixin handlers too, which the serializer then validates as before', async () => {
    RecordingPipe.seen = [];
    const served = await serveTwice([ReadOnlyService], { providers: [{ provide: APP_PIPE, useClass: RecordingPipe }] });
    try {
      await expect(unaryOf(served.clients[channel], 'Retrieve', { id: 3 })).rejects.toMatchObject({ code: status.NOT_FOUND });
      // The mixin's Retrieve declares no parameter type: the pipe gets none.
      expect(RecordingPipe.seen).toEqual(['body:undefined:{"id":3}']);
    } finally {
      await served.close();
    }
  });
});
