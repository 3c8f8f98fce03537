import * as protobuf from 'protobufjs';

/** Where a paged List response (AIP-158) carries its parts: field names of the response message. */
export interface PageResponseShape {
  /** The `repeated <Model>` field: `results`, or the collection's plural (`posts`). */
  results: string;
  nextPageToken: string;
  /** Present when the message has `total_size`. */
  totalSize?: string;
}

const INTEGERS = new Set(['int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64']);
const shapes = new WeakMap<protobuf.Type, PageResponseShape | string>();

/**
 * The shape of a paged List response message, or what it lacks: exactly one repeated message
 * field (named `results` when there are several), `string next_page_token` and optionally an
 * integer `total_size`. Read once per message type.
 */
export function pageResponseShape(type: protobuf.Type): PageResponseShape | string {
  let shape = shapes.get(type);
  if (shape === undefined) shapes.set(type, (shape = readShape(type)));
  return shape;
}

function readShape(type: protobuf.Type): PageResponseShape | string {
  const name = type.fullName.slice(1);
  const token = type.fields.next_page_token;
  if (!token || token.type !== 'string' || token.repeated) {
    return `a paged List response needs \`string next_page_token\`; ${name} has none.`;
  }
  const lists = type.fieldsArray.filter((field) => {
    field.resolve();
    return field.repeated && field.resolvedType instanceof protobuf.Type;
  });
  const results = lists.length === 1 ? lists[0] : lists.find((field) => field.name === 'results');
  if (!results) {
    return `a paged List response needs one \`repeated <Model>\` field (or one named results); ${name} has ${lists.length ? lists.map((f) => f.name).join(', ') : 'none'}.`;
  }
  const total = type.fields.total_size;
  if (total && (total.repeated || !INTEGERS.has(total.type))) return `${name}.total_size must be an integer (int32 or int64).`;
  return { results: results.name, nextPageToken: token.name, ...(total ? { totalSize: total.name } : {}) };
}
