import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as protobuf from 'protobufjs';
import { FileDescriptorProto as FileDescriptorProtoType } from 'protobufjs/ext/descriptor';
import type {
  DescriptorProto,
  EnumDescriptorProto,
  FieldDescriptorProto,
  FileDescriptorProto,
  MethodDescriptorProto,
  ServiceDescriptorProto,
} from './descriptor-types';
import { lowerCamelCase } from './proto-json';
import { GOOGLE_PROTOS_ROOT } from './proto-files';

const SCALAR_TYPES: Readonly<Record<string, FieldDescriptorProto['type']>> = {
  double: 'TYPE_DOUBLE',
  float: 'TYPE_FLOAT',
  int64: 'TYPE_INT64',
  uint64: 'TYPE_UINT64',
  int32: 'TYPE_INT32',
  fixed64: 'TYPE_FIXED64',
  fixed32: 'TYPE_FIXED32',
  bool: 'TYPE_BOOL',
  string: 'TYPE_STRING',
  bytes: 'TYPE_BYTES',
  uint32: 'TYPE_UINT32',
  sfixed32: 'TYPE_SFIXED32',
  sfixed64: 'TYPE_SFIXED64',
  sint32: 'TYPE_SINT32',
  sint64: 'TYPE_SINT64',
};

/** A file's descriptor as bytes, by the file's name: what reflection serves and descriptor pools read. */
export interface EncodedFileDescriptor {
  name: string;
  bytes: Buffer;
}

/** A descriptor's binary encoding (protobufjs's copy of descriptor.proto writes it). */
export function encodeFileDescriptor(file: FileDescriptorProto): EncodedFileDescriptor {
  const bytes = FileDescriptorProtoType.encode(FileDescriptorProtoType.fromObject(file as unknown as Record<string, unknown>)).finish();
  return { name: file.name, bytes: Buffer.from(bytes) };
}

/** The name a loaded file is known by (its import path), given its path on disk. */
export type FileNamer = (filename: string) => string;

/**
 * The files of a loaded protobufjs root as `google.protobuf.FileDescriptorProto`s, the way
 * protoc describes them: one per .proto file, named by its import path, with the files it
 * depends on, fully qualified type names, proto3 `optional` fields and map entries. protobufjs
 * itself describes one file per package without dependencies, which strict descriptor pools
 * (Python's, grpcurl's) refuse. Well-known types come as their official sources describe them.
 */
export function fileDescriptorsOf(root: protobuf.Root, nameOf: FileNamer): FileDescriptorProto[] {
  const known = wellKnownFiles();
  const fileOf = (object: protobuf.ReflectionObject): string => {
    if (object.filename) return nameOf(object.filename);
    // protobufjs's bundled well-known types carry no file name.
    const file = known.fileOf.get(topLevelName(object));
    if (!file) throw new Error(`protobufjs gave no file for ${object.fullName}`);
    return file;
  };
  const files = describeFiles(root, fileOf, (name) => known.files.has(name));
  const needed = new Set(files.flatMap((file) => file.dependency).filter((name) => known.files.has(name)));
  // Well-known files depend only on each other (api.proto imports source_context and type).
  for (const name of needed) for (const dependency of known.files.get(name)!.dependency) needed.add(dependency);
  return dependenciesFirst([...[...needed].sort().map((name) => known.files.get(name)!), ...files]);
}

/** One descriptor per file of the root's declarations, leaving out the files `skip` says. */
function describeFiles(
  root: protobuf.Root,
  fileOf: (object: protobuf.ReflectionObject) => string,
  skip: (file: string) => boolean,
): FileDescriptorProto[] {
  const builders = new Map<string, FileBuilder>();
  const visit = (namespace: protobuf.NamespaceBase): void => {
    for (const nested of namespace.nestedArray) {
      if (
        nested instanceof protobuf.Type ||
        nested instanceof protobuf.Enum ||
        nested instanceof protobuf.Service ||
        nested instanceof protobuf.Field
      ) {
        const name = fileOf(nested);
        if (skip(name)) continue;
        let builder = builders.get(name);
        if (!builder) builders.set(name, (builder = new FileBuilder(name, packageOf(namespace), fileOf)));
        builder.add(nested);
      } else if (nested instanceof protobuf.Namespace) {
        visit(nested);
      }
    }
  };
  visit(root);
  return [...builders.values()].map((builder) => builder.build());
}

/** The well-known files a .proto may import, in an order where each comes after those it imports. */
const WELL_KNOWN_SOURCES = [
  'any',
  'source_context',
  'type',
  'api',
  'descriptor',
  'duration',
  'empty',
  'field_mask',
  'struct',
  'timestamp',
  'wrappers',
];

interface WellKnownFiles {
  files: ReadonlyMap<string, FileDescriptorProto>;
  /** Which file declares each top-level name (`google.protobuf.Timestamp`, ...). */
  fileOf: ReadonlyMap<string, string>;
}

let wellKnown: WellKnownFiles | undefined;

/**
 * The well-known files (`google/protobuf/*.proto`) described from their official sources, read
 * once. Each is parsed on its own, as protobufjs's loader would take its bundled copies instead
 * (without file names, and with other field names).
 */
function wellKnownFiles(): WellKnownFiles {
  if (wellKnown) return wellKnown;
  const root = new protobuf.Root();
  const fileOf = new Map<string, string>();
  for (const source of WELL_KNOWN_SOURCES) {
    const name = `google/protobuf/${source}.proto`;
    protobuf.parse(readFileSync(path.join(GOOGLE_PROTOS_ROOT, name), 'utf8'), root, { keepCase: true });
    const declarations = (root.lookup('google.protobuf') as protobuf.Namespace).nestedArray;
    for (const declaration of declarations) {
      if (declaration.filename) continue;
      declaration.filename = name;
      fileOf.set(declaration.fullName.slice(1), name);
    }
  }
  root.resolveAll();
  const files = describeFiles(
    root,
    (object) => fileOf.get(topLevelName(object))!,
    () => false,
  );
  wellKnown = { files: new Map(files.map((file) => [file.name, file])), fileOf };
  return wellKnown;
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
    return {
      name: this.name,
      package: this.packageName,
      dependency: [...this.dependencies].sort(),
      messageType: this.messages,
      enumType: this.enums,
      service: this.services,
      extension: this.extensions,
      syntax: editions ? 'editions' : this.syntax,
      edition: editions ? 'EDITION_2023' : undefined,
    };
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
    return {
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
    };
  }

  private field(field: protobuf.Field, oneofs: protobuf.OneOf[] = []): FieldDescriptorProto {
    field.resolve();
    const resolved = field.resolvedType;
    const descriptor: FieldDescriptorProto = {
      name: field.name,
      // protoc always writes the JSON name; JSON codecs (Connect's) read it from here.
      jsonName: (field.options?.json_name as string | undefined) ?? lowerCamelCase(field.name),
      number: field.id,
      label: field.repeated || field instanceof protobuf.MapField ? 'LABEL_REPEATED' : field.required ? 'LABEL_REQUIRED' : 'LABEL_OPTIONAL',
    };
    if (field instanceof protobuf.MapField) {
      descriptor.type = 'TYPE_MESSAGE';
      descriptor.typeName = `${field.parent!.fullName}.${mapEntryName(field.name)}`;
    } else if (resolved instanceof protobuf.Type) {
      descriptor.type = (resolved as { group?: boolean }).group ? 'TYPE_GROUP' : 'TYPE_MESSAGE';
      descriptor.typeName = this.reference(resolved);
    } else if (resolved instanceof protobuf.Enum) {
      descriptor.type = 'TYPE_ENUM';
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
    if (field.options?.default !== undefined) descriptor.defaultValue = String(field.options.default);
    if (field.options?.deprecated === true) descriptor.options = { deprecated: true } as FieldDescriptorProto['options'];
    return descriptor;
  }

  /** The nested `<Name>Entry` message protoc writes for a map field. */
  private mapEntry(field: protobuf.MapField, descriptor: FieldDescriptorProto): DescriptorProto {
    const value: FieldDescriptorProto = {
      name: 'value',
      jsonName: 'value',
      number: 2,
      label: 'LABEL_OPTIONAL',
    };
    const resolved = field.resolvedType;
    if (resolved) {
      value.type = resolved instanceof protobuf.Enum ? 'TYPE_ENUM' : 'TYPE_MESSAGE';
      value.typeName = this.reference(resolved);
    } else {
      value.type = SCALAR_TYPES[field.type];
    }
    return {
      name: descriptor.typeName!.slice(descriptor.typeName!.lastIndexOf('.') + 1),
      field: [{ name: 'key', jsonName: 'key', number: 1, label: 'LABEL_OPTIONAL', type: SCALAR_TYPES[field.keyType] }, value],
      options: { mapEntry: true },
    };
  }

  private service(service: protobuf.Service): ServiceDescriptorProto {
    return {
      name: service.name,
      method: service.methodsArray.map((method) => {
        method.resolve();
        return {
          name: method.name,
          inputType: this.reference(method.resolvedRequestType!),
          outputType: this.reference(method.resolvedResponseType!),
          clientStreaming: !!method.requestStream,
          serverStreaming: !!method.responseStream,
          options: methodOptions(method),
        };
      }),
    };
  }
}

/** A method's `idempotency_level`, the one method option clients act on (Connect's GET, retries). */
function methodOptions(method: protobuf.Method): MethodDescriptorProto['options'] {
  const level = method.options?.idempotency_level as NonNullable<MethodDescriptorProto['options']>['idempotencyLevel'];
  return level ? { idempotencyLevel: level } : undefined;
}

function enumDescriptor(type: protobuf.Enum): EnumDescriptorProto {
  const numbers = Object.values(type.values);
  return {
    name: type.name,
    value: Object.entries(type.values).map(([name, number]) => ({ name, number })),
    options: new Set(numbers).size < numbers.length ? { allowAlias: true } : undefined,
    reservedName: (type.reserved ?? []).filter((range): range is string => typeof range === 'string'),
    reservedRange: (type.reserved ?? []).filter((range): range is number[] => Array.isArray(range)).map(([start, end]) => ({ start, end })),
  };
}

/** protoc's name for a map field's entry message: `tags` -> `TagsEntry`, `my_map` -> `MyMapEntry`. */
function mapEntryName(field: string): string {
  return `${field.replace(/(?:^|_)([a-z0-9])/g, (_, c: string) => c.toUpperCase())}Entry`;
}
