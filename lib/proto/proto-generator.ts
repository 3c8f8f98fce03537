import { EntityMetadata, EntityProperty } from '@mikro-orm/core';
import { defaultFieldNames, fieldKindOf } from '../orm/entity-properties';
import { FieldKind, toSnakeCase } from '../serializers/field-spec';
import { ImproperlyConfiguredError } from '../errors/improperly-configured.error';
import { upperSnake } from './enum-names';

export interface ProtoGenerationOptions {
  /** Entity properties to include, in order. @default every scalar and owned relation */
  fields?: readonly string[];
  /** The proto package. @default the entity's class name in snake_case */
  packageName?: string;
  /** The service name. @default `<Entity>Controller` */
  serviceName?: string;
  /** Nullable scalars as `google.protobuf.*Value` wrappers instead of proto3 `optional`. @default false */
  wrappers?: boolean;
}

/**
 * Proto scalar of each field kind. Floats map to `double` because JavaScript numbers are
 * doubles (a `float` would lose digits); decimals map to `string` so no digit is lost.
 */
const SCALAR_OF_KIND: Readonly<Record<FieldKind, string | undefined>> = {
  string: 'string',
  text: 'string',
  integer: 'int32',
  bigint: 'int64',
  float: 'double',
  decimal: 'string',
  boolean: 'bool',
  date: 'google.protobuf.Timestamp',
  json: 'google.protobuf.Struct',
  enum: 'string', // enums with known values become proto enums (see enumDefinition)
  bytes: 'bytes',
  relation: undefined,
  relations: undefined,
  any: 'string',
};

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

interface ProtoField {
  name: string;
  type: string;
  label: '' | 'optional ' | 'repeated ';
}

/**
 * Writes a .proto for a model service in django-grpc-framework's shape: a service with List
 * (server streaming), Create, Retrieve, Update and Destroy, the model message,
 * `<Model>ListRequest` and `<Model>RetrieveRequest`.
 */
export function generateProto(meta: EntityMetadata, options: ProtoGenerationOptions = {}): string {
  const model = meta.className;
  const props = selectProps(meta, options.fields);
  const enums: string[] = [];
  const fields = props.map((prop) => protoField(prop, options.wrappers ?? false, model, enums));
  const pk = meta.primaryKeys[0];
  const pkField = protoField(meta.properties[pk as keyof typeof meta.properties] as EntityProperty, false, model, []);
  const imports = new Set(['google/protobuf/empty.proto']);
  for (const field of fields) {
    const file = IMPORT_OF_TYPE[field.type] ?? (field.type.endsWith('Value') ? 'google/protobuf/wrappers.proto' : undefined);
    if (file) imports.add(file);
  }
  const packageName = options.packageName ?? toSnakeCase(model);
  const service = options.serviceName ?? `${model}Controller`;
  const lines = [
    'syntax = "proto3";',
    '',
    `package ${packageName};`,
    '',
    ...[...imports].sort().map((file) => `import "${file}";`),
    '',
    `service ${service} {`,
    `    rpc List(${model}ListRequest) returns (stream ${model}) {}`,
    `    rpc Create(${model}) returns (${model}) {}`,
    `    rpc Retrieve(${model}RetrieveRequest) returns (${model}) {}`,
    `    rpc Update(${model}) returns (${model}) {}`,
    `    rpc Destroy(${model}) returns (google.protobuf.Empty) {}`,
    '}',
    '',
    `message ${model} {`,
    ...fields.map((field, i) => `    ${field.label}${field.type} ${field.name} = ${i + 1};`),
    '}',
    '',
    `message ${model}ListRequest {`,
    '}',
    '',
    `message ${model}RetrieveRequest {`,
    `    ${pkField.type} ${pkField.name} = 1;`,
    '}',
    '',
    ...enums,
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
    const type = targetPk ? (SCALAR_OF_KIND[fieldKindOf(targetPk)] ?? 'int32') : 'int32';
    if (kind === 'relations') return { name, type, label: 'repeated ' };
    return nullableField(name, type, !!prop.nullable, wrappers);
  }
  const type = SCALAR_OF_KIND[kind] ?? 'string';
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

function nullableField(name: string, type: string, nullable: boolean, wrappers: boolean): ProtoField {
  if (!nullable || type.startsWith('google.protobuf.')) return { name, type, label: '' };
  if (wrappers && WRAPPER_OF_SCALAR[type]) return { name, type: WRAPPER_OF_SCALAR[type], label: '' };
  return { name, type, label: 'optional ' };
}
