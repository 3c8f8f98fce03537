import { PathTemplate } from '../../lib/web/path-template';

describe('PathTemplate (google.api.http path templates)', () => {
  const values = (template: string, path: string) => {
    const match = new PathTemplate(template).match(path);
    return match && Object.fromEntries(match);
  };

  it('matches literals and one-segment variables, percent-decoded', () => {
    expect(values('/v1/books/{id}', '/v1/books/42')).toEqual({ id: '42' });
    expect(values('/v1/books/{id}', '/v1/books/a%20b')).toEqual({ id: 'a b' });
    expect(values('/v1/books/{id}', '/v1/books')).toBeUndefined();
    expect(values('/v1/books/{id}', '/v1/books/42/reviews')).toBeUndefined();
    expect(values('/v1/books/{id}', '/v1/authors/42')).toBeUndefined();
    expect(values('/v1/books', '/v1/books')).toEqual({});
  });

  it('matches variables with patterns, nested field paths, ** and verbs', () => {
    expect(values('/v1/{name=shelves/*/books/*}', '/v1/shelves/1/books/2')).toEqual({ name: 'shelves/1/books/2' });
    expect(values('/v1/{name=shelves/*/books/*}', '/v1/shelves/1/books')).toBeUndefined();
    expect(values('/v1/books/{book.id}/reviews', '/v1/books/7/reviews')).toEqual({ 'book.id': '7' });
    expect(values('/files/{path=**}', '/files/a/b/c.txt')).toEqual({ path: 'a/b/c.txt' });
    expect(values('/v1/books/{id}:publish', '/v1/books/3:publish')).toEqual({ id: '3' });
    expect(values('/v1/books/{id}:publish', '/v1/books/3')).toBeUndefined();
  });

  it('refuses templates it cannot serve', () => {
    expect(() => new PathTemplate('v1/books')).toThrow('does not start with "/"');
    expect(() => new PathTemplate('/a/**/b')).toThrow('"**" may only end');
  });
});
