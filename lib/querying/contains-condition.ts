import { EntityManager, EntityMetadata, raw } from '@mikro-orm/core';
import type { Condition, ContainsBuilder } from './filter-query';
import { driverPoolOf } from '../orm/mikro-orm-internals';

/**
 * "The column contains the value", ignoring case (ASCII case on SQLite), as a condition with
 * the value as a parameter. Not LIKE: it reads `%` and `_` in the value as wildcards, and
 * SQLite's LIKE has no escape character unless the statement names one.
 */
export function containsCondition(em: EntityManager, meta: EntityMetadata): ContainsBuilder {
  const platform = em.getPlatform();
  const position = driverPoolOf(em).driverName === 'pg' ? 'strpos' : 'instr';
  return (property: string, value: string): Condition => {
    const column = platform.quoteIdentifier(meta.properties[property as keyof object].fieldNames[0]);
    const key = raw((alias: string) => `${position}(lower(${alias}.${column}), lower(?))`, [value]) as string;
    return { [key]: { $gt: 0 } };
  };
}
