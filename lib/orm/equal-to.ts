/**
 * A where-clause value meaning "equal to `value`", written `{ $eq: value }` for a string or
 * bytes. MikroORM 6 looks for operators in a shorthand value with `Object.keys`, which for a
 * string lists one key per character: a 1 MB value compared as `{ email: value }` costs it
 * about a second on the main thread, `{ email: { $eq: value } }` nothing. Other values stay as they are.
 */
export function equalTo(value: unknown): unknown {
  return typeof value === 'string' || value instanceof Uint8Array ? { $eq: value } : value;
}
