import { resolveFieldSpec, toSnakeCase } from '../../lib/serializers/field-spec';
import { validateFieldValue } from '../../lib/serializers/field-kinds';
import { codePointLength } from '../../lib/serializers/field-validation';

const stringField = (options = {}) => resolveFieldSpec('title', { kind: 'string', maxLength: 5, ...options });

describe('field validation', () => {
  it('counts code points, not UTF-16 units', () => {
    expect(codePointLength('abc')).toBe(3);
    expect(codePointLength('😀😀')).toBe(2);
    expect('😀😀'.length).toBe(4);
    expect(codePointLength('\ud83d')).toBe(1); // a lone surrogate is one unit
  });

  it('trims, refuses blank and NUL, and limits length in code points', () => {
    expect(validateFieldValue(stringField(), '  ab  ')).toEqual({ ok: true, value: 'ab' });
    expect(validateFieldValue(stringField(), '   ')).toEqual({ ok: false, error: 'This field may not be blank.' });
    expect(validateFieldValue(stringField({ allowBlank: true }), '  ')).toEqual({ ok: true, value: '' });
    expect(validateFieldValue(stringField(), 'a\0b')).toEqual({ ok: false, error: 'Null characters are not allowed.' });
    expect(validateFieldValue(stringField(), '😀😀😀😀😀')).toEqual({ ok: true, value: '😀😀😀😀😀' });
    expect(validateFieldValue(stringField(), 'abcdef')).toEqual({
      ok: false,
      error: 'Ensure this field has no more than 5 characters.',
    });
    expect(validateFieldValue(stringField({ trim: false }), ' ab ')).toEqual({ ok: true, value: ' ab ' });
  });

  it('accepts null only for nullable fields', () => {
    expect(validateFieldValue(stringField(), null)).toEqual({ ok: false, error: 'This field may not be null.' });
    expect(validateFieldValue(stringField({ nullable: true }), null)).toEqual({ ok: true, value: null });
  });

  it('coerces integers, big integers and decimals without losing precision', () => {
    const int = resolveFieldSpec('n', { kind: 'integer' });
    expect(validateFieldValue(int, 42)).toEqual({ ok: true, value: 42 });
    expect(validateFieldValue(int, '42')).toEqual({ ok: true, value: 42 });
    expect(validateFieldValue(int, 1.5)).toMatchObject({ ok: false });
    expect(validateFieldValue(int, '9007199254740993')).toMatchObject({ ok: false });
    const big = resolveFieldSpec('n', { kind: 'bigint' });
    expect(validateFieldValue(big, '9007199254740993')).toEqual({ ok: true, value: '9007199254740993' });
    expect(validateFieldValue(big, 9007199254740993n)).toEqual({ ok: true, value: '9007199254740993' });
    expect(validateFieldValue(big, 'x')).toMatchObject({ ok: false });
    const decimal = resolveFieldSpec('n', { kind: 'decimal' });
    expect(validateFieldValue(decimal, '10.25')).toEqual({ ok: true, value: '10.25' });
    expect(validateFieldValue(decimal, '1e5')).toMatchObject({ ok: false });
  });

  it('checks booleans, dates, enums and relation ids', () => {
    expect(validateFieldValue(resolveFieldSpec('b', { kind: 'boolean' }), 'yes')).toMatchObject({ ok: false });
    const date = validateFieldValue(resolveFieldSpec('d', { kind: 'date' }), '2024-01-02T03:04:05Z');
    expect(date).toEqual({ ok: true, value: new Date('2024-01-02T03:04:05Z') });
    expect(validateFieldValue(resolveFieldSpec('d', { kind: 'date' }), 'soon')).toMatchObject({ ok: false });
    const color = resolveFieldSpec('c', { kind: 'enum', choices: ['RED', 'BLUE'] });
    expect(validateFieldValue(color, 'RED')).toEqual({ ok: true, value: 'RED' });
    expect(validateFieldValue(color, 'GREEN')).toEqual({ ok: false, error: '"GREEN" is not a valid choice.' });
    const groups = resolveFieldSpec('groups', { kind: 'relations' });
    expect(validateFieldValue(groups, [1, 2, 2])).toEqual({ ok: true, value: [1, 2] });
    expect(validateFieldValue(groups, 'x')).toMatchObject({ ok: false });
  });

  it('names proto fields in snake_case', () => {
    expect(toSnakeCase('dateJoined')).toBe('date_joined');
    expect(toSnakeCase('id')).toBe('id');
    expect(toSnakeCase('HTTPStatus')).toBe('http_status');
  });

  it('derives required from read-only and nullable', () => {
    expect(resolveFieldSpec('a', {}).required).toBe(true);
    expect(resolveFieldSpec('a', { readOnly: true }).required).toBe(false);
    expect(resolveFieldSpec('a', { nullable: true }).required).toBe(false);
    expect(resolveFieldSpec('a', { required: false }).required).toBe(false);
  });
});
