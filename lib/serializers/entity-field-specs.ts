import { EntityMetadata, EntityProperty, ReferenceKind } from '@mikro-orm/core';
import { DEFAULT_MAX_BYTES_LENGTH, DEFAULT_MAX_ITEMS, DEFAULT_MAX_TEXT_LENGTH, FieldKind, FieldSpec, toSnakeCase } from './field-spec';

const FLOAT_TYPES = new Set(['float', 'double', 'real', 'double precision', 'float4', 'float8']);
const DATE_TYPES = new Set(['date', 'datetime', 'time', 'timestamp', 'timestamptz']);

/** The kind of serializer field an entity property maps to. */
export function fieldKindOf(prop: EntityProperty): FieldKind {
  switch (prop.kind) {
    case ReferenceKind.MANY_TO_ONE:
    case ReferenceKind.ONE_TO_ONE:
      return 'relation';
    case ReferenceKind.MANY_TO_MANY:
    case ReferenceKind.ONE_TO_MANY:
      return 'relations';
    case ReferenceKind.EMBEDDED:
      return 'json';
  }
  // MikroORM names types either by alias ('double') or by class ('DoubleType').
  const type = String(prop.type ?? '').toLowerCase().replace(/type$/, '');
  const column = String(prop.columnTypes?.[0] ?? '').toLowerCase().replace(/\(.*$/, '');
  const runtime = String(prop.runtimeType ?? '').toLowerCase();
  if (prop.enum) return 'enum';
  if (runtime === 'boolean' || type === 'boolean') return 'boolean';
  if (runtime === 'date' || DATE_TYPES.has(type)) return 'date';
  if (type === 'bigint' || column === 'bigint' || runtime === 'bigint') return 'bigint';
  if (type === 'decimal' || column === 'numeric' || column === 'decimal') return 'decimal';
  if (FLOAT_TYPES.has(type) || FLOAT_TYPES.has(column)) return 'float';
  if (runtime === 'number' || /int/.test(type)) return 'integer';
  if (type === 'text') return 'text';
  if (type === 'json' || column === 'json' || column === 'jsonb') return 'json';
  if (runtime === 'string' || type === 'string' || column.startsWith('varchar')) return 'string';
  if (runtime === 'buffer' || type === 'blob' || type === 'uint8array' || column === 'blob' || column === 'bytea') return 'bytes';
  if (runtime === 'object') return 'json';
  return 'any';
}

/** Field specs derived from an entity property: type, length, nullability, uniqueness, read-only keys. */
export function entityFieldSpec(meta: EntityMetadata, prop: EntityProperty): FieldSpec {
  const kind = fieldKindOf(prop);
  const generated = (prop.primary && prop.autoincrement !== false && kind === 'integer') || !!prop.onCreate || !!prop.onUpdate;
  const readOnly = generated || prop.persist === false || kind === 'relations' && prop.kind === ReferenceKind.ONE_TO_MANY;
  const nullable = !!prop.nullable;
  const hasDefault = prop.default !== undefined || prop.defaultRaw !== undefined;
  const unique =
    !prop.primary &&
    (!!prop.unique ||
      meta.uniques.some((u) => (Array.isArray(u.properties) ? u.properties.length === 1 && u.properties[0] === prop.name : u.properties === prop.name)));
  let target: FieldSpec['target'];
  if (kind === 'relation' || kind === 'relations') {
    const targetMeta = prop.targetMeta;
    target = { entityName: prop.type, primaryKey: targetMeta?.primaryKeys[0] ?? 'id' };
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
