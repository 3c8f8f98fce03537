/** The scalar types of proto3. */
export const PROTO_SCALARS: ReadonlySet<string> = new Set([
  'double',
  'float',
  'int32',
  'int64',
  'uint32',
  'uint64',
  'sint32',
  'sint64',
  'fixed32',
  'fixed64',
  'sfixed32',
  'sfixed64',
  'bool',
  'string',
  'bytes',
]);

/** The 64-bit integer scalars: handlers see them as decimal strings. */
export const LONG_SCALARS: ReadonlySet<string> = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);

/** The scalars JavaScript holds as a number. */
export const NUMBER_SCALARS: ReadonlySet<string> = new Set(['double', 'float', 'int32', 'uint32', 'sint32', 'fixed32', 'sfixed32']);
