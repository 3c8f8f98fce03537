import { clone, fromBinary, toJson } from '@bufbuild/protobuf';
import type { DescFile } from '@bufbuild/protobuf';
import * as wkt from '@bufbuild/protobuf/wkt';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import * as path from 'node:path';
import { ProtoRegistry } from '../../lib/proto/proto-registry';

// Reflection serves the well-known files as the framework describes them from their sources;
// a client compares them with the descriptors compiled into its own runtime, so they must be
// the same (file options and source info aside, which no client needs).

const OFFICIAL = new Map(
  Object.entries(wkt)
    .filter(([name]) => name.startsWith('file_google_protobuf_'))
    .map(([, file]) => (file as DescFile).proto)
    .map((proto) => [proto.name, proto]),
);

describe('well-known files in reflection', () => {
  const registry = ProtoRegistry.load(
    [
      path.join(__dirname, '..', 'fixtures', 'protos', 'json-mapping.proto'),
      path.join(__dirname, '..', '..', 'sample', 'protos', 'bookstore.proto'),
    ],
    [path.join(__dirname, '..', '..', 'sample', 'protos')],
    { longs: String, enums: String },
  );
  const served = registry.fileDescriptors().filter((file) => file.name.startsWith('google/protobuf/'));

  it('serves every well-known file a served file imports', () => {
    expect(served.map((file) => file.name)).toEqual(
      expect.arrayContaining(['google/protobuf/any.proto', 'google/protobuf/descriptor.proto', 'google/protobuf/timestamp.proto']),
    );
  });

  const exact = served.filter((file) => file.name !== 'google/protobuf/descriptor.proto');
  it.each(exact.map((file) => [file.name, file.bytes] as const))('describes %s as protoc does', (name, bytes) => {
    const ours = fromBinary(FileDescriptorProtoSchema, bytes);
    const official = clone(FileDescriptorProtoSchema, OFFICIAL.get(name)!);
    official.options = undefined;
    official.sourceCodeInfo = undefined;
    expect(toJson(FileDescriptorProtoSchema, ours)).toEqual(toJson(FileDescriptorProtoSchema, official));
  });

  // descriptor.proto changes with every protobuf release (field options, reserved fields): the
  // copy compiled into @bufbuild/protobuf is older than the source read here.
  it('describes every message and field of the descriptor.proto clients know, with the same numbers and types', () => {
    const ours = fromBinary(FileDescriptorProtoSchema, served.find((file) => file.name === 'google/protobuf/descriptor.proto')!.bytes);
    type Message = (typeof ours.messageType)[number];
    const fieldsOf = (messages: Message[], prefix = ''): string[] =>
      messages.flatMap((message) => [
        ...message.field.map(
          (field) => `${prefix}${message.name}.${field.name} = ${field.number} ${field.type} ${field.label} ${field.typeName}`,
        ),
        ...fieldsOf(message.nestedType, `${prefix}${message.name}.`),
      ]);
    expect(fieldsOf(ours.messageType)).toEqual(
      expect.arrayContaining(fieldsOf(OFFICIAL.get('google/protobuf/descriptor.proto')!.messageType)),
    );
  });
});
