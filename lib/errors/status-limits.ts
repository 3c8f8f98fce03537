import type { FieldViolation } from './grpc-error';

/**
 * How large a status may get. A status travels in HTTP/2 trailers, and clients limit the
 * size of the headers they accept (C-core, so Python, C++, Ruby and PHP clients: 8 KiB by
 * default); a status larger than that never arrives and the call hangs. These bounds keep
 * `grpc-message` plus `grpc-status-details-bin` (base64) well under 8 KiB.
 */
export const STATUS_LIMITS = {
  /** UTF-8 bytes of the status message (`grpc-message`). */
  messageBytes: 1024,
  /** Field violations described in the message itself; the rest are counted. */
  violationsInMessage: 5,
  /** Field violations sent in `google.rpc.BadRequest`; one more entry counts the rest. */
  violations: 20,
  /** Characters of one violation's description. */
  descriptionChars: 300,
  /** Bytes of the serialized `google.rpc.Status` in `grpc-status-details-bin` (before base64). */
  detailsBytes: 4096,
} as const;

/** The message cut to `STATUS_LIMITS.messageBytes` UTF-8 bytes, marked when cut. */
export function boundedMessage(message: string): string {
  if (Buffer.byteLength(message) <= STATUS_LIMITS.messageBytes) return message;
  const marker = ' … (cut)';
  let cut = Buffer.from(message)
    .subarray(0, STATUS_LIMITS.messageBytes - Buffer.byteLength(marker))
    .toString('utf8');
  // A character split by the cut decodes as U+FFFD: drop it.
  cut = cut.replace(/\uFFFD$/u, '');
  return cut + marker;
}

/** At most `STATUS_LIMITS.violations`, each description bounded, plus one entry counting the others. */
export function boundedViolations(violations: readonly FieldViolation[], keep: number = STATUS_LIMITS.violations): FieldViolation[] {
  const kept = violations.slice(0, keep).map((v) => ({ ...v, description: boundedDescription(v.description) }));
  const rest = violations.length - kept.length;
  if (rest > 0) kept.push({ field: '', description: `and ${rest} more field violation${rest === 1 ? '' : 's'}`, reason: 'MORE' });
  return kept;
}

function boundedDescription(description: string): string {
  const chars = [...description];
  return chars.length <= STATUS_LIMITS.descriptionChars ? description : `${chars.slice(0, STATUS_LIMITS.descriptionChars - 1).join('')}…`;
}

/** `field: description; ...` for the first few violations, then how many more there are. */
export function describeViolations(violations: readonly FieldViolation[]): string {
  const shown = violations.slice(0, STATUS_LIMITS.violationsInMessage).map((v) => `${v.field}: ${boundedDescription(v.description)}`);
  const rest = violations.length - shown.length;
  if (rest > 0) shown.push(`and ${rest} more`);
  return boundedMessage(shown.join('; '));
}
