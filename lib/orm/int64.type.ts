import { BigIntType, Platform } from '@mikro-orm/core';

/**
 * A bigint column read and written as a decimal string, so values past 2^53 keep every digit
 * on every driver. PostgreSQL already returns bigint as text; better-sqlite3 returns JavaScript
 * numbers (rounding large values), so on SQLite the column is selected as text.
 *
 * ```ts
 * @Property({ type: Int64Type }) balance: string = '0';
 * ```
 *
 * @publicApi
 */
export class Int64Type extends BigIntType<'string'> {
  constructor() {
    super('string');
  }

  override convertToJSValueSQL(key: string, platform: Platform): string {
    // SQLite platforms are the ones whose driver rounds 64-bit integers.
    return /sqlite/i.test(platform.constructor.name) ? `cast(${key} as text)` : key;
  }
}
