import { EntityMetadata, EntityProperty } from '@mikro-orm/core';
import { ImproperlyConfiguredError } from '../errors/improperly-configured.error';
import { entityFieldSpec } from '../serializers/entity-field-specs';
import { defaultFieldNames, fieldKindOf } from '../serializers/entity-properties';
import { toSnakeCase } from '../serializers/field-spec';
import {
  enumModel,
  FieldPatterns,
  nullableMessages,
  scalarOfKind,
  UnnumberedField,
  withNullAndPresence,
  WRAPPER_OF_SCALAR,
} from './field-types';
import { modelServiceFile, seedRpcOptions } from './model-service';
import { numbered, TypeModel } from './proto-model';
import { writeProtoFile } from './proto-writer';

export interface ProtoGenerationOptions extends FieldPatterns {
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
}

/**
 * Writes a .proto for a model service in django-grpc-framework's shape: a service with List
 * (server streaming), Create, Retrieve, Update and Destroy, the model message,
 * `<Model>ListRequest` and `<Model>RetrieveRequest`; with `paged`, the List querying fields and
 * `ListPage` too.
 */
export function generateProto(meta: EntityMetadata, options: ProtoGenerationOptions = {}): string {
  const model = meta.className;
  const types: TypeModel[] = [];
  const nullables = new Set<string>();
  const fields = selectProps(meta, options.fields).map((prop) =>
    withNullAndPresence(
      protoField(prop, options.wrappers ?? false, model, types),
      { nullable: !!prop.nullable && !prop.primary, required: entityFieldSpec(meta, prop).required },
      options,
      nullables,
    ),
  );
  const key = protoField(meta.properties[meta.primaryKeys[0] as keyof typeof meta.properties] as EntityProperty, false, model, []);
  const shape = { model, fields: numbered(fields), key: { ...key, number: 1 }, types: [...types, ...nullableMessages(nullables)] };
  const serviceName = options.serviceName ?? `${model}Controller`;
  return writeProtoFile(
    modelServiceFile(shape, seedRpcOptions(serviceName, options.paged ?? false), options.packageName ?? toSnakeCase(model)),
  );
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

function protoField(prop: EntityProperty, wrappers: boolean, model: string, types: TypeModel[]): UnnumberedField {
  const name = toSnakeCase(prop.name);
  const kind = fieldKindOf(prop);
  if (kind === 'enum' && prop.items?.length) {
    const enumName = `${model}${prop.name.charAt(0).toUpperCase()}${prop.name.slice(1)}`;
    types.push(enumModel(enumName, prop.items));
    return nullableField(name, enumName, !!prop.nullable, false);
  }
  if (kind === 'relation' || kind === 'relations') {
    const target = prop.targetMeta;
    const targetPk = target?.properties[target.primaryKeys[0] as keyof typeof target.properties] as EntityProperty | undefined;
    const type = targetPk ? (scalarOfKind(fieldKindOf(targetPk)) ?? 'int32') : 'int32';
    if (kind === 'relations') return { name, type, label: 'repeated' };
    return nullableField(name, type, !!prop.nullable, wrappers);
  }
  const type = scalarOfKind(kind) ?? 'string';
  return nullableField(name, type, !!prop.nullable && !prop.primary, wrappers);
}

function nullableField(name: string, type: string, nullable: boolean, wrappers: boolean): UnnumberedField {
  if (!nullable || type.startsWith('google.protobuf.')) return { name, type, label: '' };
  if (wrappers && WRAPPER_OF_SCALAR[type]) return { name, type: WRAPPER_OF_SCALAR[type], label: '' };
  return { name, type, label: 'optional' };
}
