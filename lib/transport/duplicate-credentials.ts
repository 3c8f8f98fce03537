import type { IncomingHttpHeaders } from 'node:http';

// Node keeps only the first value of a header it treats as single-valued (authorization among
// them), on HTTP/1.1 and HTTP/2 alike, so a request with `Bearer <staff>` and then
// `Bearer forged` would reach an authenticator as one good credential. These names are put
// back as every value the client sent, from the raw header list, so that an authenticator
// that refuses more than one credential sees them all.
const CREDENTIAL_HEADERS = ['authorization', 'proxy-authorization'] as const;

/**
 * Replaces a credential header Node reduced to its first value with the list of all its
 * values, read from `rawHeaders` (name, value, name, value, ...). Costs nothing on a request
 * without credentials or with one.
 */
export function keepDuplicateCredentials(headers: IncomingHttpHeaders, rawHeaders: readonly string[] | undefined): void {
  if (!rawHeaders) return;
  for (const name of CREDENTIAL_HEADERS) {
    if (typeof headers[name] !== 'string') continue;
    const values: string[] = [];
    for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
      if (rawHeaders[i].length === name.length && rawHeaders[i].toLowerCase() === name) values.push(rawHeaders[i + 1]);
    }
    if (values.length > 1) (headers as Record<string, string | string[]>)[name] = values;
  }
}
