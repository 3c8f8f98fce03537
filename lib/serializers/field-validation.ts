import type { FieldSpec } from './field-spec';

/** The outcome of checking one incoming value: the value to store, or why it was refused. */
export type FieldResult = { ok: true; value: unknown } | { ok: false; error: string };

const INTEGER_RE = /^-?\d+$/;
const DECIMAL_RE = /^-?(\d+\.?\d*|\.\d+)$/;

export const ok = (value: unknown): FieldResult => ({ ok: true, value });
export const fail = (error: string): FieldResult => ({ ok: false, error });

export function validateString(spec: FieldSpec, value: unknown): FieldResult {
  if (typeof value !== 'string') {
    if (typeof value === 'number' || typeof value === 'boolean') value = String(value);
    else return fail('Not a valid string.');
  }
  let text = value as string;
  if (text.includes('\0')) return fail('Null characters are not allowed.');
  if (spec.trim) text = text.trim();
  if (text === '') {
    if (spec.allowBlank) return ok('');
    return fail('This field may not be blank.');
  }
  if (spec.maxLength !== undefined || spec.minLength !== undefined) {
    const length = codePointLength(text);
    if (spec.maxLength !== undefined && length > spec.maxLength) {
      return fail(`Ensure this field has no more than ${spec.maxLength} characters.`);
    }
    if (spec.minLength !== undefined && length < spec.minLength) {
      return fail(`Ensure this field has at least ${spec.minLength} characters.`);
    }
  }
  return ok(text);
}

/** Length in Unicode code points, as Python's `len()` counts: a surrogate pair is one character. */
export function codePointLength(text: string): number {
  let length = text.length;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        length--;
        i++;
      }
    }
  }
  return length;
}

export function validateInteger(value: unknown): FieldResult {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return ok(value);
  if (typeof value === 'string' && INTEGER_RE.test(value.trim())) {
    const n = Number(value.trim());
    if (Number.isSafeInteger(n)) return ok(n);
  }
  return fail('A valid integer is required.');
}

export function validateBigint(value: unknown): FieldResult {
  if (typeof value === 'bigint') return ok(value.toString());
  if (typeof value === 'number' && Number.isSafeInteger(value)) return ok(String(value));
  if (typeof value === 'string' && INTEGER_RE.test(value.trim())) return ok(BigInt(value.trim()).toString());
  return fail('A valid integer is required.');
}

export function validateDecimal(spec: FieldSpec, value: unknown): FieldResult {
  let text: string;
  if (typeof value === 'number' && Number.isFinite(value)) text = String(value);
  else if (typeof value === 'string' && DECIMAL_RE.test(value.trim())) text = value.trim();
  else return fail('A valid number is required.');
  const places = text.includes('.') ? text.length - text.indexOf('.') - 1 : 0;
  if (spec.scale !== undefined && places > spec.scale) return fail(`Ensure that there are no more than ${spec.scale} decimal places.`);
  return ok(text);
}

/** A decimal with exactly `scale` digits after the point (`24.5` -> `24.50` for 2), without going through a float. */
export function formatDecimal(value: string, scale: number): string {
  const negative = value.startsWith('-');
  const [whole, fraction = ''] = (negative ? value.slice(1) : value).split('.');
  const digits = scale > 0 ? `${whole || '0'}.${fraction.padEnd(scale, '0').slice(0, scale)}` : whole || '0';
  return negative ? `-${digits}` : digits;
}

export function validateDate(value: unknown): FieldResult {
  const date = value instanceof Date ? value : typeof value === 'string' ? new Date(value) : undefined;
  if (!date || Number.isNaN(date.getTime())) return fail('Datetime has wrong format.');
  return ok(date);
}

export function validatePrimaryKey(value: unknown): FieldResult {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return ok(value);
  if (typeof value === 'string' && value !== '') return ok(value);
  return fail(`Incorrect type. Expected pk value, received ${typeof value}.`);
}

export function validateBytes(spec: FieldSpec, value: unknown): FieldResult {
  if (!(Buffer.isBuffer(value) || value instanceof Uint8Array)) return fail('Expected bytes.');
  if (spec.maxLength !== undefined && value.length > spec.maxLength)
    return fail(`Ensure this field has no more than ${spec.maxLength} bytes.`);
  return ok(value);
}

export function validatePrimaryKeyList(spec: FieldSpec, value: unknown): FieldResult {
  if (!Array.isArray(value)) return fail(`Expected a list of items but got type "${typeof value}".`);
  if (spec.maxItems !== undefined && value.length > spec.maxItems) {
    return fail(`Ensure this field has no more than ${spec.maxItems} elements.`);
  }
  const out: unknown[] = [];
  for (const item of value) {
    const result = validatePrimaryKey(item);
    if (!result.ok) return result;
    out.push(result.value);
  }
  return ok([...new Set(out)]);
}
