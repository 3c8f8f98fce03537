import { MetadataStorage } from '@mikro-orm/core';
import { GrpcAction, ProtoField, ProtoSerializer, Service } from 'nestjs-grpc-framework';
import { applicationContract, ContractService, plural } from '../../lib/contract/application-contract';
import { readProtoFile } from '../../lib/contract/proto-reader';
import { writeProtoFile } from '../../lib/contract/proto-writer';

const serviceOf = (cls: new () => object, service: string): ContractService => ({ instance: new cls(), options: { service } });

class NoteSerializer extends ProtoSerializer {
  @ProtoField({ kind: 'string', maxLength: 20 }) text!: string;
}

class OtherNoteSerializer extends ProtoSerializer {
  @ProtoField({ kind: 'integer' }) text!: number;
}

describe('the contract of services that are not model services', () => {
  it("writes a plain Service's actions: inline fields, a serializer, streams, Empty by default", () => {
    class Notes extends Service {
      @GrpcAction({ request: NoteSerializer, response: { id: 'int64', tags: 'repeated string' } })
      async Add(): Promise<void> {}

      @GrpcAction({ response: NoteSerializer, responseStream: true })
      async *Watch(): AsyncGenerator<object> {}
    }
    const { files, problems } = applicationContract([serviceOf(Notes, 'notes.NoteService')], new MetadataStorage(), () => undefined);
    expect(problems).toEqual([]);
    expect(writeProtoFile({ ...files[0], path: 'notes.proto' })).toBe(
      [
        'syntax = "proto3";',
        '',
        'package notes;',
        '',
        'import "google/protobuf/empty.proto";',
        '',
        'service NoteService {',
        '    rpc Add(Note) returns (AddResponse) {}',
        '    rpc Watch(google.protobuf.Empty) returns (stream Note) {}',
        '}',
        '',
        'message Note {',
        '    string text = 1;',
        '}',
        '',
        'message AddResponse {',
        '    int64 id = 1;',
        '    repeated string tags = 2;',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('names what it cannot write: an unknown inline type, an undefined serializer, two messages of one name, an undecorated handler', () => {
    class Broken extends Service {
      @GrpcAction({ request: { when: 'timestamp' } })
      async Schedule(): Promise<void> {}

      @GrpcAction({ request: undefined })
      async Cycle(): Promise<void> {}

      @GrpcAction({ request: NoteSerializer })
      async First(): Promise<void> {}

      @GrpcAction({ request: OtherNoteSerializer })
      async Second(): Promise<void> {}

      async Legacy(): Promise<object> {
        return {};
      }
    }
    // A serializer named OtherNoteSerializer writes message OtherNote; rename it to collide with Note.
    Object.defineProperty(OtherNoteSerializer, 'name', { value: 'NoteSerializer' });
    const existing = readProtoFile(
      'notes.proto',
      'syntax = "proto3";\npackage notes;\nservice NoteService {\n  rpc Legacy(Empty) returns (Empty);\n}\nmessage Empty {}\n',
    );
    const { problems } = applicationContract([serviceOf(Broken, 'notes.NoteService')], new MetadataStorage(), () => existing);
    expect(problems).toEqual([
      "Broken.Cycle: @GrpcAction's request is undefined (an import cycle?): name the serializer or message.",
      'two definitions of notes.Note differ: { string text = 1 } (from Broken.First\'s request) and { int32 text = 1 } (from Broken.Second\'s request). Give one serializer another name (a message is named after its entity, or its class without "Serializer").',
      'Broken.Legacy serves rpc notes.NoteService.Legacy without @GrpcAction, so generation cannot tell its messages: declare it with @GrpcAction({ request, response }), or mark notes.proto hand-written.',
      'Broken.Schedule\'s request field "when" has type "timestamp", which is no proto scalar and no message or enum of package notes: use a scalar (string, int32, int64, double, bool, bytes, ...), a well-known type, or a message of the package.',
    ]);
  });

  it('names lists as AIP-132 plurals', () => {
    expect(['book', 'category', 'box', 'match', 'day'].map(plural)).toEqual(['books', 'categories', 'boxes', 'matches', 'days']);
  });
});
