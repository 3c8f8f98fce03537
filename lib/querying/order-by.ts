/** One key of an order: an entity property and its direction. */
export interface OrderKey {
  property: string;
  direction: 'asc' | 'desc';
}

/** An `order_by` that is malformed or names a field the service does not allow; `message` is for the client. */
export class OrderByRefusedError extends Error {}

/**
 * Reads AIP-132's `order_by` ("created desc, title"): fields by their proto names, each
 * optionally followed by `asc` or `desc`. `orderable` maps the allowed names to entity
 * properties. The primary key is appended when absent, so the order is total (paging by keys
 * needs that); an empty `order_by` gives undefined (the service's default order).
 */
export function parseOrderBy(text: string, orderable: ReadonlyMap<string, string>, primaryKey: string): OrderKey[] | undefined {
  if (!text.trim()) return undefined;
  if (!orderable.size) throw new OrderByRefusedError('This service does not allow order_by.');
  const keys: OrderKey[] = [];
  for (const part of text.split(',')) {
    const words = part.trim().split(/\s+/);
    const [name, direction = 'asc'] = words;
    if (!name || words.length > 2 || (direction !== 'asc' && direction !== 'desc')) {
      throw new OrderByRefusedError(`order_by: "${part.trim()}" is not a field optionally followed by asc or desc.`);
    }
    const property = orderable.get(name);
    if (!property) throw new OrderByRefusedError(`order_by cannot use ${name}; orderable fields: ${[...orderable.keys()].join(', ')}.`);
    if (keys.some((key) => key.property === property)) throw new OrderByRefusedError(`order_by names ${name} twice.`);
    keys.push({ property, direction });
  }
  if (!keys.some((key) => key.property === primaryKey)) keys.push({ property: primaryKey, direction: 'asc' });
  return keys;
}
