import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** A value of the last row's order keys, as a token carries it. */
export type KeyValue = string | number | boolean | null | Date;

/** A page token that is malformed, edited, or made for another query; `message` is for the client. */
export class PageTokenError extends Error {}

/** What a token stands for: where the next page starts, for one filter and one order. */
export interface PagePosition {
  /** The last row's values of the order keys, in order. */
  after: KeyValue[];
}

/** Encoded values: JSON cannot hold a Date, so dates travel tagged. */
type Encoded = string | number | boolean | null | { d: string };

/**
 * Next-page tokens: opaque to clients, signed (HMAC-SHA256) so an edited token is refused rather
 * than read as another query, and bound to the query they were made for (the filter and order,
 * as a hash), so reusing one with another filter or order is refused too. A token holds the last
 * row's order values (keyset paging), so page 1,000 costs what page 1 costs.
 */
export class PageTokens {
  constructor(private readonly secret: string | Buffer) {}

  /** The token for the page after `position`, in the query `query` (filter and order, as the client sent them). */
  encode(query: string, position: PagePosition): string {
    const body = Buffer.from(JSON.stringify({ q: queryHash(query), a: position.after.map(encodeValue) })).toString('base64url');
    return `${body}.${this.sign(body)}`;
  }

  /** The position a token stands for; throws `PageTokenError` for a token not made by this server for `query`. */
  decode(query: string, token: string): PagePosition {
    const [body, signature, extra] = token.split('.');
    if (!body || !signature || extra !== undefined || !this.verify(body, signature)) {
      throw new PageTokenError('page_token is not a token this service issued; start again without one.');
    }
    const parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { q: string; a: Encoded[] };
    if (parsed.q !== queryHash(query)) {
      throw new PageTokenError('page_token was issued for another filter or order_by; send the same ones as for the first page.');
    }
    return { after: parsed.a.map(decodeValue) };
  }

  private sign(body: string): string {
    return createHmac('sha256', this.secret).update(body).digest('base64url');
  }

  private verify(body: string, signature: string): boolean {
    const expected = Buffer.from(this.sign(body));
    const given = Buffer.from(signature);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}

function queryHash(query: string): string {
  return createHash('sha256').update(query).digest('base64url').slice(0, 22);
}

function encodeValue(value: KeyValue): Encoded {
  return value instanceof Date ? { d: value.toISOString() } : value;
}

function decodeValue(value: Encoded): KeyValue {
  return value !== null && typeof value === 'object' ? new Date(value.d) : value;
}
