import { EntityMetadata, EntityProperty } from '@mikro-orm/core';
import { defaultFieldNames, fieldKindOf } from '../serializers/entity-properties';
import { entityFieldSpec } from '../serializers/entity-field-specs';
import { FieldKind, toSnakeCase } from '../serializers/field-spec';
import { FIELD_KINDS } from '../serializers/field-kinds';
import { ImproperlyConfiguredError } from '../errors/improperly-configured.error';
import { upperSnake } from '../proto/enum-names';

export interface ProtoGenerationOptions {
  /** Entity properties to include, in order. @default every scalar and owned relation */
  fields?: readonly string[];
  /** The proto package. @default the entity's class name in snake_case */
  packageName?: string;
  /** The service name. @default `<Entity>Controller` */
  serviceName?: string;
  /** Nullable scalars as `google.protobuf.*Value` wrappers instead of proto3 `optional`. @default false */
  wrappers?: boolean;
  /**
   * List requests carry AIP's `filter`, `order_by`, `page_size` and `page_token`, and the
   * service gains `ListPage` (one page per response: `results`, `next_page_token`,
   * `total_size`) for `PagedListModelMixin`. @default false
   */
  paged?: boolean;
  /**
   * Fields a Create must send get proto3 presence (`optional`), so one left out is refused as
   * "This field is required." instead of being read as proto3's zero value (0, '', false).
   * @default false (the tutorial's protos are reproduced as they are)
   */
  presence?: boolean;
  /**
   * Nullable scalars use the seed's null pattern, a message with a oneof of the value and
   * `google.protobuf.NullValue` (`NullableString`), so a client can set them back to null;
   * with `optional` alone, leaving a field out means "unchanged". @default false
   */
  nullOneof?: boolean;
}

/** The proto scalar of a field kind (its `FIELD_KINDS` entry's `protoType`). */
export function scalarOfKind(kind: FieldKind): string | undefined {
  return FIELD_KINDS[kind].protoType;
}

const WRAPPER_OF_SCALAR: Readonly<Record<string, string>> = {
  string: 'google.protobuf.StringValue',
  int32: 'google.protobuf.Int32Value',
  int64: 'google.protobuf.Int64Value',
  double: 'google.protobuf.DoubleValue',
  bool: 'google.protobuf.BoolValue',
  bytes: 'google.protobuf.BytesValue',
};

const IMPORT_OF_TYPE: Readonly<Record<string, string>> = {
  'google.protobuf.Timestamp': 'google/protobuf/timestamp.proto',
  'google.protobuf.Struct': 'google/protobuf/struct.proto',
};

/** AIP-132/158/160's List request fields, as `ListModelMixin` reads them. */
const LIST_QUERY_FIELDS = [
  '    // AIP-160 filter over the service\'s filterFields, e.g. `title:"news" AND id > 10`.',
  '    string filter = 1;',
  '    // AIP-132 order over its orderingFields, e.g. `created desc, title`.',
  '    string order_by = 2;',
  '    // The most messages to send; 0 sends every one (List) or defaultPageSize (ListPage).',
  '    int32 page_size = 3;',
  '    // The next_page_token of the page before (for List: its `next-page-token` trailer).',
  '    string page_token = 4;',
];

/** One field of a message to write. */
export interface ProtoField {
  name: string;
  type: string;
  label: '' | 'optional ' | 'repeated ';
  /** A line written above the field. */
  comment?: string;
}

/**
 * Writes a .proto for a model service in django-grpc-framework's shape: a service with List
 * (server streaming), Create, Retrieve, Update and Destroy, the model message,
 * `<Model>ListRequest` and `<Model>RetrieveRequest`; with `paged`, the List querying fields and
 * `ListPage` too.
 */
export function generateProto(meta: EntityMetadata, options: ProtoGenerationOptions = {}): string {
  const model = meta.className;
  const props = selectProps(meta, options.fields);
  const enums: string[] = [];
  const nullables = new Set<string>();
  const fields = props.map((prop) =>
    withNullAndPresence(
      protoField(prop, options.wrappers ?? false, model, enums),
      { nullable: !!prop.nullable && !prop.primary, required: entityFieldSpec(meta, prop).required },
      options,
      nullables,
    ),
  );
  const pk = meta.primaryKeys[0];
  const pkField = protoField(meta.properties[pk as keyof typeof meta.properties] as EntityProperty, false, model, []);
  return writeServiceProto(
    { model, fields, pkField, definitions: [...enums, ...nullableDefinitions(nullables)], usesNull: nullables.size > 0 },
    options,
  );
}

/** What a model service's .proto is written from. */
export interface ServiceProtoShape {
  /** The model message's name, e.g. `Post`. */
  model: string;
  /** The model message's fields, in order. */
  fields: readonly ProtoField[];
  /** The fields of a separate `<Model>Write` message that Create and Update receive, when there is one. */
  writeFields?: readonly ProtoField[];
  /** The primary key, as `<Model>RetrieveRequest` carries it. */
  pkField: ProtoField;
  /** Further top-level definitions: enums, null-pattern messages, nested messages. */
  definitions: readonly string[];
  /** Some field uses `google.protobuf.NullValue`. */
  usesNull: boolean;
}

/** Writes a model service's .proto in django-grpc-framework's shape (see `generateProto`). */
export function writeServiceProto(shape: ServiceProtoShape, options: ProtoGenerationOptions = {}): string {
  const { model, fields, writeFields, pkField } = shape;
  const imports = new Set(['google/protobuf/empty.proto']);
  for (const field of [...fields, ...(writeFields ?? [])]) {
    const file =
      IMPORT_OF_TYPE[field.type] ??
      (field.type.startsWith('google.protobuf.') && field.type.endsWith('Value') ? 'google/protobuf/wrappers.proto' : undefined);
    if (file) imports.add(file);
  }
  if (shape.usesNull || shape.definitions.some((line) => line.includes('google.protobuf.NullValue')))
    imports.add('google/protobuf/struct.proto');
  for (const line of shape.definitions)
    if (line.includes('google.protobuf.Timestamp')) imports.add(IMPORT_OF_TYPE['google.protobuf.Timestamp']);
  const packageName = options.packageName ?? toSnakeCase(model);
  const service = options.serviceName ?? `${model}Controller`;
  const paged = options.paged ?? false;
  const write = writeFields ? `${model}Write` : model;
  const message = (name: string, list: readonly ProtoField[]) => [
    `message ${name} {`,
    ...list.flatMap((field, i) => [
      ...(field.comment ? [`    // ${field.comment}`] : []),
      `    ${field.label}${field.type} ${field.name} = ${i + 1};`,
    ]),
    '}',
    '',
  ];
  const lines = [
    'syntax = "proto3";',
    '',
    `package ${packageName};`,
    '',
    ...[...imports].sort().map((file) => `import "${file}";`),
    '',
    `service ${service} {`,
    `    rpc List(${model}ListRequest) returns (stream ${model}) {}`,
    ...(paged ? [`    rpc ListPage(${model}ListRequest) returns (${model}ListPage) {}`] : []),
    `    rpc Create(${write}) returns (${model}) {}`,
    `    rpc Retrieve(${model}RetrieveRequest) returns (${model}) {}`,
    `    rpc Update(${write}) returns (${model}) {}`,
    `    rpc Destroy(${writeFields ? `${model}RetrieveRequest` : model}) returns (google.protobuf.Empty) {}`,
    '}',
    '',
    ...message(model, fields),
    ...(writeFields ? message(write, writeFields) : []),
    `message ${model}ListRequest {`,
    ...(paged ? LIST_QUERY_FIELDS : []),
    '}',
    '',
    ...(paged
      ? [
          `message ${model}ListPage {`,
          `    repeated ${model} results = 1;`,
          '    string next_page_token = 2;',
          '    int32 total_size = 3;',
          '}',
          '',
        ]
      : []),
    `message ${model}RetrieveRequest {`,
    `    ${pkField.type} ${pkField.name} = 1;`,
    '}',
    '',
    ...shape.definitions,
  ];
  return lines.join('\n');
}

function selectProps(meta: EntityMetadata, fields?: readonly string[]): EntityProperty[] {
  return (fields ?? defaultFieldNames(meta)).map((name) => {
    const prop = meta.properties[name as keyof typeof meta.properties] as EntityProperty | undefined;
    if (!prop) {
      throw new ImproperlyConfiguredError(
        `generateproto: "${name}" is not a property of ${meta.className} (properties: ${Object.keys(meta.properties).join(', ')}).`,
      );
    }
    return prop;
  });
}

function protoField(prop: EntityProperty, wrappers: boolean, model: string, enums: string[]): ProtoField {
  const name = toSnakeCase(prop.name);
  const kind = fieldKindOf(prop);
  if (kind === 'enum' && prop.items?.length) {
    const enumName = `${model}${prop.name.charAt(0).toUpperCase()}${prop.name.slice(1)}`;
    enums.push(...enumDefinition(enumName, prop.items));
    return nullableField(name, enumName, !!prop.nullable, false);
  }
  if (kind === 'relation' || kind === 'relations') {
    const target = prop.targetMeta;
    const targetPk = target?.properties[target.primaryKeys[0] as keyof typeof target.properties] as EntityProperty | undefined;
    const type = targetPk ? (scalarOfKind(fieldKindOf(targetPk)) ?? 'int32') : 'int32';
    if (kind === 'relations') return { name, type, label: 'repeated ' };
    return nullableField(name, type, !!prop.nullable, wrappers);
  }
  const type = scalarOfKind(kind) ?? 'string';
  return nullableField(name, type, !!prop.nullable && !prop.primary, wrappers);
}

/** `enum GadgetColor { GADGET_COLOR_UNSPECIFIED = 0; GADGET_COLOR_RED = 1; ... }`, buf's naming rules. */
function enumDefinition(name: string, items: readonly (string | number)[]): string[] {
  const prefix = upperSnake(name);
  return [
    `enum ${name} {`,
    `    ${prefix}_UNSPECIFIED = 0;`,
    ...items.map((item, i) => `    ${prefix}_${upperSnake(item)} = ${i + 1};`),
    '}',
    '',
  ];
}

/** What `presence` and `nullOneof` look at in a written field. */
export interface WrittenFieldFacts {
  /** It may be set to null (never for a key). */
  nullable: boolean;
  /** A Create must send it. */
  required: boolean;
}

/**
 * A field with `presence` and `nullOneof` applied (see `ProtoGenerationOptions`); the null
 * messages it needs are added to `nullables` (`nullableDefinitions` writes them).
 */
export function withNullAndPresence(
  field: ProtoField,
  facts: WrittenFieldFacts,
  options: ProtoGenerationOptions,
  nullables: Set<string>,
): ProtoField {
  const scalar = !field.type.startsWith('google.protobuf.') && field.label !== 'repeated ';
  if (options.nullOneof && facts.nullable && scalar) {
    nullables.add(field.type);
    return { name: field.name, type: nullableTypeName(field.type), label: '' };
  }
  if (options.presence && field.label === '' && scalar && facts.required) return { ...field, label: 'optional ' };
  return field;
}

/** The null-pattern messages of the types in `nullables`. */
export function nullableDefinitions(nullables: ReadonlySet<string>): string[] {
  return [...nullables].flatMap(nullableMessage);
}

/** `string` -> `NullableString`, `int32` -> `NullableInt32`, `GadgetColor` -> `NullableGadgetColor`. */
function nullableTypeName(type: string): string {
  return `Nullable${type.charAt(0).toUpperCase()}${type.slice(1)}`;
}

/** The seed's null pattern for one type: `message NullableString { oneof kind { string value = 1; google.protobuf.NullValue null = 2; } }`. */
function nullableMessage(type: string): string[] {
  return [
    `message ${nullableTypeName(type)} {`,
    '    oneof kind {',
    `        ${type} value = 1;`,
    '        google.protobuf.NullValue null = 2;',
    '    }',
    '}',
    '',
  ];
}

function nullableField(name: string, type: string, nullable: boolean, wrappers: boolean): ProtoField {
  if (!nullable || type.startsWith('google.protobuf.')) return { name, type, label: '' };
  if (wrappers && WRAPPER_OF_SCALAR[type]) return { name, type: WRAPPER_OF_SCALAR[type], label: '' };
  return { name, type, label: 'optional ' };
}
