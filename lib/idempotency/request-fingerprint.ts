import { createHash } from 'node:crypto';

/**
 * SHA-256 of a decoded request in a canonical form (object keys sorted, bytes as base64), so
 * the same request sent twice, in binary or JSON, over any address, has the same fingerprint.
 */
export function requestFingerprint(request: unknown): string {
  return createHash('sha256').update(canonicalRequest(request)).digest('hex');
}

/** A decoded request as text that is the same for the same request: keys sorted, bytes and times spelled out. */
export function canonicalRequest(value: unknown): string {
  if (value === undefined) return 'null';
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return JSON.stringify({ $bytes: Buffer.from(value).toString('base64') });
  if (value instanceof Date) return JSON.stringify({ $time: value.toISOString() });
  if (typeof value === 'bigint') return JSON.stringify(value.toString());
  if (Array.isArray(value)) return `[${value.map(canonicalRequest).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${canonicalRequest((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}
