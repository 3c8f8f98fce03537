import { OrderByRefusedError, parseOrderBy } from '../../lib/querying/order-by';

const orderable = new Map([
  ['created', 'created'],
  ['title', 'title'],
  ['id', 'id'],
]);

describe('parseOrderBy (AIP-132)', () => {
  it('reads fields and directions, and appends the primary key so the order is total', () => {
    expect(parseOrderBy('created desc, title', orderable, 'id')).toEqual([
      { property: 'created', direction: 'desc' },
      { property: 'title', direction: 'asc' },
      { property: 'id', direction: 'asc' },
    ]);
    expect(parseOrderBy(' id desc ', orderable, 'id')).toEqual([{ property: 'id', direction: 'desc' }]);
    expect(parseOrderBy('', orderable, 'id')).toBeUndefined();
  });

  it.each([
    ['content', 'order_by cannot use content; orderable fields: created, title, id.'],
    ['title up', 'order_by: "title up" is not a field optionally followed by asc or desc.'],
    ['title,,id', 'order_by: "" is not a field optionally followed by asc or desc.'],
    ['title, title desc', 'order_by names title twice.'],
  ])('refuses %j', (text, message) => {
    expect(() => parseOrderBy(text, orderable, 'id')).toThrow(new OrderByRefusedError(message));
  });

  it('is refused outright without an allowlist', () => {
    expect(() => parseOrderBy('id', new Map(), 'id')).toThrow('This service does not allow order_by.');
  });
});
