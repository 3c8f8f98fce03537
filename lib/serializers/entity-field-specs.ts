import { EntityMetadata, EntityProperty, ReferenceKind } from '@mikro-orm/core';
import { fieldKindOf } from './entity-properties';
import { DEFAULT_MAX_BYTES_LENGTH, DEFAULT_MAX_ITEMS, DEFAULT_MAX_TEXT_LENGTH, FieldKind, FieldSpec, toSnakeCase } from './field-spec';

/** Field specs derived from an entity property: type, length, nullability, uniqueness, read-only keys. */
export function entityFieldSpec(meta: EntityMetadata, prop: EntityProperty): Omit<FieldSpec, 'name' | 'writeOnly'> {
  const kind = fieldKindOf(prop);
  const generated =
    (prop.primary && prop.autoincrement !== false && (kind === 'integer' || kind === 'bigint')) || !!prop.onCreate || !!prop.onUpdate;
  const readOnly = generated || prop.persist === false || (kind === 'relations' && prop.kind === ReferenceKind.ONE_TO_MANY);
  const nullable = !!prop.nullable;
  const hasDefault = prop.default !== undefined || prop.defaultRaw !== undefined;
  const unique =
    !prop.primary &&
    (!!prop.unique ||
      meta.uniques.some((u) =>
        Array.isArray(u.properties) ? u.properties.length === 1 && u.properties[0] === prop.name : u.properties === prop.name,
      ));
  let target: FieldSpec['target'];
  if (kind === 'relation' || kind === 'relations') {
    const targetMeta = prop.targetMeta;
    target = {
      entityName: prop.type,
      primaryKey: targetMeta?.primaryKeys[0] ?? 'id',
      ...(prop.kind === ReferenceKind.ONE_TO_MANY ? { mappedBy: prop.mappedBy } : {}),
    };
  }
  return {
    property: prop.name,
    protoName: toSnakeCase(prop.name),
    kind,
    readOnly,
    required: !readOnly && !nullable && !hasDefault && kind !== 'relations',
    nullable,
    allowBlank: prop.default === '',
    trim: true,
    maxLength: maxLengthOf(prop, kind),
    choices: kind === 'enum' ? prop.items : undefined,
    scale: kind === 'decimal' && typeof prop.scale === 'number' ? prop.scale : undefined,
    maxItems: kind === 'relations' ? DEFAULT_MAX_ITEMS : undefined,
    unique,
    target,
  };
}

/** The column's length for strings, else the defaults that keep one value within a message and a List batch. */
function maxLengthOf(prop: EntityProperty, kind: FieldKind): number | undefined {
  if (kind === 'string' && prop.length) return prop.length;
  if (kind === 'string' || kind === 'text') return DEFAULT_MAX_TEXT_LENGTH;
  if (kind === 'bytes') return DEFAULT_MAX_BYTES_LENGTH;
  return undefined;
}
