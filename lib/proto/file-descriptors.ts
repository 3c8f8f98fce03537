import { create } from '@bufbuild/protobuf';
import type { DescFile } from '@bufbuild/protobuf';
import * as wkt from '@bufbuild/protobuf/wkt';
import {
  DescriptorProtoSchema,
  Edition,
  EnumDescriptorProtoSchema,
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  FieldDescriptorProtoSchema,
  FileDescriptorProtoSchema,
  MethodDescriptorProtoSchema,
  ServiceDescriptorProtoSchema,
} from '@bufbuild/protobuf/wkt';
import type {
  DescriptorProto,
  EnumDescriptorProto,
  FieldDescriptorProto,
  FileDescriptorProto,
  MethodDescriptorProto,
  ServiceDescriptorProto,
} from '@bufbuild/protobuf/wkt';
import { protoCamelCase } from '@bufbuild/protobuf/reflect';
import * as protobuf from 'protobufjs';

/**
 * The official descriptors of the well-known types (every `file_google_protobuf_*` that
 * @bufbuild/protobuf ships), by file name. protobufjs has its own copies of most of them
 * without file names; reflection serves these instead.
 */
const WELL_KNOWN_FILES: ReadonlyMap<string, FileDescriptorProto> = new Map(
  Object.entries(wkt)
    .filter(([name]) => name.startsWith('file_google_protobuf_'))
    .map(([, file]) => (file as DescFile).proto)
    .map((proto) => [proto.name, proto]),
);

/** Which well-known file declares each top-level name (`google.protobuf.Timestamp`, ...). */
const WELL_KNOWN_FILE_OF = new Map<string, string>();
for (const [name, file] of WELL_KNOWN_FILES) {
  for (const item of [...file.messageType, ...file.enumType, ...file.service]) {
    WELL_KNOWN_FILE_OF.set(`${file.package}.${item.name}`, name);
  }
}

const SCALAR_TYPES: Readonly<Record<string, FieldDescriptorProto_Type>> = {
  double: FieldDescriptorProto_Type.DOUBLE,
  float: FieldDescriptorProto_Type.FLOAT,
  int64: FieldDescriptorProto_Type.INT64,
  uint64: FieldDescriptorProto_Type.UINT64,
  int32: FieldDescriptorProto_Type.INT32,
  fixed64: FieldDescriptorProto_Type.FIXED64,
  fixed32: FieldDescriptorProto_Type.FIXED32,
  bool: FieldDescriptorProto_Type.BOOL,
  string: FieldDescriptorProto_Type.STRING,
  bytes: FieldDescriptorProto_Type.BYTES,
  uint32: FieldDescriptorProto_Type.UINT32,
  sfixed32: FieldDescriptorProto_Type.SFIXED32,
  sfixed64: FieldDescriptorProto_Type.SFIXED64,
  sint32: FieldDescriptorProto_Type.SINT32,
  sint64: FieldDescriptorProto_Type.SINT64,
};

/** The name a loaded file is known by (its import path), given its path on disk. */
export type FileNamer = (filename: string) => string;

/**
 * The files of a loaded protobufjs root as `google.protobuf.FileDescriptorProto`s, the way
 * protoc describes them: one per .proto file, named by its import path, with the files it
 * depends on, fully qualified type names, proto3 `optional` fields and map entries. protobufjs
 * itself describes one file per package without dependencies, which strict descriptor pools
 * (Python's, grpcurl's) refuse. Well-known types come as their official descriptors.
 */
export function fileDescriptorsOf(root: protobuf.Root, nameOf: FileNamer): FileDescriptorProto[] {
  const builders = new Map<string, FileBuilder>();
  const fileOf = (object: protobuf.ReflectionObject): string => {
    if (object.filename) return nameOf(object.filename);
    // protobufjs's bundled well-known types carry no file name.
    const topLevel = topLevelName(object);
    const file = WELL_KNOWN_FILE_OF.get(topLevel);
    if (!file) throw new Error(`protobufjs gave no file for ${object.fullName}`);
    return file;
  };
  const visit = (namespace: protobuf.NamespaceBase): void => {
    for (const nested of namespace.nestedArray) {
      if (
        nested instanceof protobuf.Type ||
        nested instanceof protobuf.Enum ||
        nested instanceof protobuf.Service ||
        nested instanceof protobuf.Field
      ) {
        const name = fileOf(nested);
        if (WELL_KNOWN_FILES.has(name)) continue;
        let builder = builders.get(name);
        if (!builder) builders.set(name, (builder = new FileBuilder(name, packageOf(namespace), fileOf)));
        builder.add(nested);
      } else if (nested instanceof protobuf.Namespace) {
        visit(nested);
      }
    }
  };
  visit(root);
  const files = [...builders.values()].map((builder) => builder.build());
  const needed = new Set(files.flatMap((file) => file.dependency).filter((name) => WELL_KNOWN_FILES.has(name)));
  // Well-known files depend only on each other (api.proto imports source_context and type).
  for (const name of needed) for (const dependency of WELL_KNOWN_FILES.get(name)!.dependency) needed.add(dependency);
  return dependenciesFirst([...[...needed].sort().map((name) => WELL_KNOWN_FILES.get(name)!), ...files]);
}

/** The files with each one after those it imports, as protoc lists them (descriptor pools such as @bufbuild/protobuf's need it). */
function dependenciesFirst(files: FileDescriptorProto[]): FileDescriptorProto[] {
  const byName = new Map(files.map((file) => [file.name, file]));
  const ordered: FileDescriptorProto[] = [];
  const placed = new Set<string>();
  const place = (file: FileDescriptorProto): void => {
    if (placed.has(file.name)) return;
    placed.add(file.name);
    for (const dependency of file.dependency) {
      const imported = byName.get(dependency);
      if (imported) place(imported);
    }
    ordered.push(file);
  };
  files.forEach(place);
  return ordered;
}

function topLevelName(object: protobuf.ReflectionObject): string {
  let current = object;
  while (current.parent && !(current.parent instanceof protobuf.Root) && !isPackage(current.parent)) current = current.parent;
  return current.fullName.slice(1);
}

/** A namespace that is a package (not a message or service). */
function isPackage(namespace: protobuf.ReflectionObject): boolean {
  return namespace instanceof protobuf.Namespace && !(namespace instanceof protobuf.Type) && !(namespace instanceof protobuf.Service);
}

function packageOf(namespace: protobuf.NamespaceBase): string {
  return namespace instanceof protobuf.Root ? '' : namespace.fullName.slice(1);
}

/** Collects one file's declarations and the files they refer to. */
class FileBuilder {
  private readonly messages: DescriptorProto[] = [];
  private readonly enums: EnumDescriptorProto[] = [];
  private readonly services: ServiceDescriptorProto[] = [];
  private readonly extensions: FieldDescriptorProto[] = [];
  private readonly dependencies = new Set<string>();
  private syntax = 'proto3';

  constructor(
    private readonly name: string,
    private readonly packageName: string,
    private readonly fileOf: (object: protobuf.ReflectionObject) => string,
  ) {}

  add(object: protobuf.ReflectionObject): void {
    const edition = (object as unknown as { _edition?: string })._edition;
    if (edition) this.syntax = edition;
    if (object instanceof protobuf.Type) this.messages.push(this.message(object));
    else if (object instanceof protobuf.Enum) this.enums.push(enumDescriptor(object));
    else if (object instanceof protobuf.Service) this.services.push(this.service(object));
    else if (object instanceof protobuf.Field) this.extensions.push(this.field(object));
  }

  build(): FileDescriptorProto {
    const editions = this.syntax !== 'proto2' && this.syntax !== 'proto3';
    return create(FileDescriptorProtoSchema, {
      name: this.name,
      package: this.packageName,
      dependency: [...this.dependencies].sort(),
      messageType: this.messages,
      enumType: this.enums,
      service: this.services,
      extension: this.extensions,
      syntax: editions ? 'editions' : this.syntax,
      edition: editions ? Edition.EDITION_2023 : undefined,
    });
  }

  /** `.pkg.Type`, and the file declaring it becomes a dependency. */
  private reference(type: protobuf.ReflectionObject): string {
    const file = this.fileOf(type);
    if (file !== this.name) this.dependencies.add(file);
    return type.fullName;
  }

  private message(type: protobuf.Type): DescriptorProto {
    // protoc puts proto3 `optional`'s synthetic oneofs after the real ones.
    const oneofs = [...type.oneofsArray.filter((o) => !o.isProto3Optional), ...type.oneofsArray.filter((o) => o.isProto3Optional)];
    const nestedTypes: DescriptorProto[] = [];
    // Extensions declared elsewhere appear among the extended type's fields; they belong to their own file.
    const own = type.fieldsArray.filter((field) => !(field as { declaringField?: unknown }).declaringField);
    const fields = own.map((field) => {
      const descriptor = this.field(field, oneofs);
      if (field instanceof protobuf.MapField) nestedTypes.push(this.mapEntry(field, descriptor));
      return descriptor;
    });
    const extensions: FieldDescriptorProto[] = [];
    const enums: EnumDescriptorProto[] = [];
    for (const nested of type.nestedArray) {
      if (nested instanceof protobuf.Type) nestedTypes.push(this.message(nested));
      else if (nested instanceof protobuf.Enum) enums.push(enumDescriptor(nested));
      else if (nested instanceof protobuf.Field) extensions.push(this.field(nested));
    }
    return create(DescriptorProtoSchema, {
      name: type.name,
      field: fields,
      nestedType: nestedTypes,
      enumType: enums,
      extension: extensions,
      oneofDecl: oneofs.map((oneof) => ({ name: oneof.name })),
      reservedRange: (type.reserved ?? [])
        .filter((range): range is number[] => Array.isArray(range))
        .map(([start, end]) => ({ start, end: end + 1 })),
      reservedName: (type.reserved ?? []).filter((range): range is string => typeof range === 'string'),
      extensionRange: (type.extensions ?? []).map(([start, end]) => ({ start, end: end + 1 })),
    });
  }

  private field(field: protobuf.Field, oneofs: protobuf.OneOf[] = []): FieldDescriptorProto {
    field.resolve();
    const resolved = field.resolvedType;
    const descriptor = create(FieldDescriptorProtoSchema, {
      name: field.name,
      // protoc always writes the JSON name; JSON codecs (Connect's) read it from here.
      jsonName: (field.options?.json_name as string | undefined) ?? protoCamelCase(field.name),
      number: field.id,
      label:
        field.repeated || field instanceof protobuf.MapField
          ? FieldDescriptorProto_Label.REPEATED
          : field.required
            ? FieldDescriptorProto_Label.REQUIRED
            : FieldDescriptorProto_Label.OPTIONAL,
    });
    if (field instanceof protobuf.MapField) {
      descriptor.type = FieldDescriptorProto_Type.MESSAGE;
      descriptor.typeName = `${field.parent!.fullName}.${mapEntryName(field.name)}`;
    } else if (resolved instanceof protobuf.Type) {
      descriptor.type = (resolved as { group?: boolean }).group ? FieldDescriptorProto_Type.GROUP : FieldDescriptorProto_Type.MESSAGE;
      descriptor.typeName = this.reference(resolved);
    } else if (resolved instanceof protobuf.Enum) {
      descriptor.type = FieldDescriptorProto_Type.ENUM;
      descriptor.typeName = this.reference(resolved);
    } else {
      descriptor.type = SCALAR_TYPES[field.type];
    }
    if (field.extend !== undefined) {
      const extendee = field.extensionField?.parent ?? field.parent?.lookup(field.extend);
      descriptor.extendee = extendee ? this.reference(extendee) : field.extend;
    }
    const index = field.partOf ? oneofs.indexOf(field.partOf) : -1;
    if (index >= 0) descriptor.oneofIndex = index;
    if (field.partOf?.isProto3Optional) descriptor.proto3Optional = true;
    const jsonName = field.options?.json_name;
    if (typeof jsonName === 'string') descriptor.jsonName = jsonName;
    if (field.options?.deprecated === true) descriptor.options = { deprecated: true } as FieldDescriptorProto['options'];
    return descriptor;
  }

  /** The nested `<Name>Entry` message protoc writes for a map field. */
  private mapEntry(field: protobuf.MapField, descriptor: FieldDescriptorProto): DescriptorProto {
    const value = create(FieldDescriptorProtoSchema, {
      name: 'value',
      jsonName: 'value',
      number: 2,
      label: FieldDescriptorProto_Label.OPTIONAL,
    });
    const resolved = field.resolvedType;
    if (resolved) {
      value.type = resolved instanceof protobuf.Enum ? FieldDescriptorProto_Type.ENUM : FieldDescriptorProto_Type.MESSAGE;
      value.typeName = this.reference(resolved);
    } else {
      value.type = SCALAR_TYPES[field.type];
    }
    return create(DescriptorProtoSchema, {
      name: descriptor.typeName.slice(descriptor.typeName.lastIndexOf('.') + 1),
      field: [
        { name: 'key', jsonName: 'key', number: 1, label: FieldDescriptorProto_Label.OPTIONAL, type: SCALAR_TYPES[field.keyType] },
        value,
      ],
      options: { mapEntry: true },
    });
  }

  private service(service: protobuf.Service): ServiceDescriptorProto {
    return create(ServiceDescriptorProtoSchema, {
      name: service.name,
      method: service.methodsArray.map((method) => {
        method.resolve();
        return create(MethodDescriptorProtoSchema, {
          name: method.name,
          inputType: this.reference(method.resolvedRequestType!),
          outputType: this.reference(method.resolvedResponseType!),
          clientStreaming: !!method.requestStream,
          serverStreaming: !!method.responseStream,
          options: methodOptions(method),
        });
      }),
    });
  }
}

/** A method's `idempotency_level`, the one method option clients act on (Connect's GET, retries). */
function methodOptions(method: protobuf.Method): MethodDescriptorProto['options'] {
  const level = method.options?.idempotency_level as string | undefined;
  const idempotencyLevel = level && wkt.MethodOptions_IdempotencyLevel[level as keyof typeof wkt.MethodOptions_IdempotencyLevel];
  return idempotencyLevel ? create(wkt.MethodOptionsSchema, { idempotencyLevel }) : undefined;
}

function enumDescriptor(type: protobuf.Enum): EnumDescriptorProto {
  const numbers = Object.values(type.values);
  return create(EnumDescriptorProtoSchema, {
    name: type.name,
    value: Object.entries(type.values).map(([name, number]) => ({ name, number })),
    options: new Set(numbers).size < numbers.length ? { allowAlias: true } : undefined,
    reservedName: (type.reserved ?? []).filter((range): range is string => typeof range === 'string'),
    reservedRange: (type.reserved ?? []).filter((range): range is number[] => Array.isArray(range)).map(([start, end]) => ({ start, end })),
  });
}

/** protoc's name for a map field's entry message: `tags` -> `TagsEntry`, `my_map` -> `MyMapEntry`. */
function mapEntryName(field: string): string {
  return `${field.replace(/(?:^|_)([a-z0-9])/g, (_, c: string) => c.toUpperCase())}Entry`;
}
