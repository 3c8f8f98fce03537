import type { EntityManager, EntityMetadata } from '@mikro-orm/core';
import { driverPoolOf } from './mikro-orm-internals';

/** An entity's table as a statement names it: quoted, in its schema when that is not the default one. */
export function qualifiedTable(em: EntityManager, meta: EntityMetadata): string {
  const platform = em.getPlatform();
  const schema = meta.schema ?? em.config.get('schema');
  const qualified = schema && schema !== platform.getDefaultSchemaName() ? `${platform.quoteIdentifier(schema)}.` : '';
  return qualified + platform.quoteIdentifier(meta.tableName);
}

/** The driver's placeholder for the value at `index`: `$1`, `$2`, ... for PostgreSQL, `?` elsewhere (what `runQuery`'s `nativeSql` takes). */
export function nativePlaceholder(em: EntityManager): (index: number) => string {
  return driverPoolOf(em).driverName === 'pg' ? (index) => `$${index + 1}` : () => '?';
}
