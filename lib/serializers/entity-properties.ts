import { EntityMetadata, EntityProperty, ReferenceKind } from '@mikro-orm/core';
import type { FieldKind } from './field-spec';

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
  const type = String(prop.type ?? '')
    .toLowerCase()
    .replace(/type$/, '');
  const column = String(prop.columnTypes?.[0] ?? '')
    .toLowerCase()
    .replace(/\(.*$/, '');
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

/**
 * The properties `'__all__'` stands for, in a serializer and in `generateproto` alike: scalars,
 * owned relations and embeddables stored as columns; not inverse sides (one-to-many, mapped
 * many-to-many), nor embeddables stored as one JSON object, nor the columns inside embeddables.
 */
export function defaultFieldNames(meta: EntityMetadata): string[] {
  return meta.props
    .filter((p) => p.kind !== ReferenceKind.ONE_TO_MANY && !(p.kind === ReferenceKind.MANY_TO_MANY && p.mappedBy))
    .filter((p) => (p.kind !== ReferenceKind.EMBEDDED || !p.object) && !p.embedded)
    .map((p) => p.name);
}
