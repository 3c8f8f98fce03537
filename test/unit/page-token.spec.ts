import fc from 'fast-check';
import { PageTokenError, PageTokens } from '../../lib/call/page-token';
import { thrownMessage } from '../utils/thrown';

const QUERY = JSON.stringify({ filter: 'title:"a"', order_by: 'created desc' });

describe('PageTokens', () => {
  const tokens = new PageTokens('secret of this service');

  it('gives back the position it was made for, dates included', () => {
    const after = [new Date('2024-05-06T07:08:09.123Z'), 'title', 42, null, true];
    expect(tokens.decode(QUERY, tokens.encode(QUERY, { after }))).toEqual({ after });
  });

  it('refuses a token made for another filter or order', () => {
    const token = tokens.encode(QUERY, { after: [1] });
    expect(thrownMessage(() => tokens.decode(JSON.stringify({ filter: '', order_by: 'created desc' }), token), PageTokenError)).toBe(
      'page_token was issued for another filter or order_by; send the same ones as for the first page.',
    );
  });

  it("refuses another service's tokens and malformed ones", () => {
    const token = tokens.encode(QUERY, { after: [1] });
    const refused = 'page_token is not a token this service issued; start again without one.';
    expect(thrownMessage(() => new PageTokens('another secret').decode(QUERY, token), PageTokenError)).toBe(refused);
    for (const text of ['', 'abc', 'a.b.c', '.', `${token}.x`])
      expect(thrownMessage(() => tokens.decode(QUERY, text), PageTokenError)).toBe(refused);
  });

  it('refuses every edit of a token, never reading it as another position', () => {
    const token = tokens.encode(QUERY, { after: [new Date('2024-01-01T00:00:00Z'), 17] });
    fc.assert(
      fc.property(
        fc.nat({ max: token.length - 1 }),
        fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.'),
        (at, char) => {
          const edited = token.slice(0, at) + char + token.slice(at + 1);
          fc.pre(edited !== token);
          expect(() => tokens.decode(QUERY, edited)).toThrow(PageTokenError);
        },
      ),
      { numRuns: 500 },
    );
  });
});
