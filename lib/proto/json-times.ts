// google.protobuf.Timestamp and Duration in proto3 JSON: RFC 3339 in UTC, and seconds with an "s".

/** Seconds and nanoseconds, as both messages hold them (every valid value's seconds are a safe integer). */
export interface ProtoTime {
  seconds: number;
  nanos: number;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;
/** 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z, the range the Timestamp message allows. */
const MIN_SECONDS = -62_135_596_800;
const MAX_SECONDS = 253_402_300_799;
const DURATION = /^(-)?(\d+)(?:\.(\d{1,9}))?s$/;
const MAX_DURATION_SECONDS = 315_576_000_000;

/** An RFC 3339 date-time as a Timestamp, or why it is not one. */
export function timestampOfJson(text: string): ProtoTime | Error {
  const match = RFC3339.exec(text);
  if (!match) return new Error(`must be an RFC 3339 date-time such as "2024-05-01T12:00:00Z", not ${JSON.stringify(text)}`);
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  const hour = Number(match[4]);
  const minute = Number(match[5]);
  const second = Number(match[6]);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59)
    return new Error(`${JSON.stringify(text)} is not a date-time that exists`);
  let seconds = daysFromCivil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
  if (match[8] !== 'Z') {
    const sign = match[8][0] === '-' ? -1 : 1;
    seconds -= sign * (Number(match[8].slice(1, 3)) * 3600 + Number(match[8].slice(4, 6)) * 60);
  }
  if (seconds < MIN_SECONDS || seconds > MAX_SECONDS) return new Error(`${JSON.stringify(text)} is outside years 1 to 9999`);
  return { seconds, nanos: fractionNanos(match[7]) };
}

/** A Timestamp as RFC 3339 in UTC, with 0, 3, 6 or 9 fractional digits. */
export function timestampToJson(seconds: number, nanos: number): string {
  const iso = new Date(seconds * 1000).toISOString();
  return `${iso.slice(0, 19)}${fractionText(nanos)}Z`;
}

/** A JSON duration ("1.5s", "-0.25s") as a Duration, or why it is not one. */
export function durationOfJson(text: string): ProtoTime | Error {
  const match = DURATION.exec(text);
  if (!match) return new Error(`must be seconds with an "s", such as "1.5s", not ${JSON.stringify(text)}`);
  const seconds = Number(match[2]);
  if (seconds > MAX_DURATION_SECONDS) return new Error(`${JSON.stringify(text)} is longer than 10,000 years`);
  const sign = match[1] ? -1 : 1;
  const nanos = fractionNanos(match[3]);
  return { seconds: sign * seconds || 0, nanos: sign * nanos || 0 };
}

/** A Duration as seconds with 0, 3, 6 or 9 fractional digits and an "s". */
export function durationToJson(seconds: number, nanos: number): string {
  const negative = seconds < 0 || nanos < 0;
  return `${negative ? '-' : ''}${Math.abs(seconds)}${fractionText(Math.abs(nanos))}s`;
}

function daysInMonth(year: number, month: number): number {
  if (month !== 2) return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil), without a Date. */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

function fractionNanos(digits: string | undefined): number {
  return digits ? Number(digits.padEnd(9, '0')) : 0;
}

function fractionText(nanos: number): string {
  if (!nanos) return '';
  const digits = String(nanos).padStart(9, '0');
  if (nanos % 1_000_000 === 0) return `.${digits.slice(0, 3)}`;
  if (nanos % 1000 === 0) return `.${digits.slice(0, 6)}`;
  return `.${digits}`;
}
