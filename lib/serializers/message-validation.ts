import { validate } from 'class-validator';
import type { FieldViolation } from '../errors/grpc-error';
import type { FieldSpec } from './field-spec';
import { isSent } from './nested-fields';
import type { ProtoMessage, SerializerData } from './proto-serializer';
import type { SerializerSpec } from './serializer-spec';

// The steps of a serializer's validation that depend only on its fields and the message.

/**
 * Of fields that write the same property (a nested `author` and its key `author_id`), the one
 * the message sends is validated; sending both is refused, and sending none, where the
 * property is `required`, is "required" once, on the key. Returns the fields to skip.
 */
export function chosenAlternatives(
  spec: SerializerSpec,
  writable: readonly FieldSpec[],
  message: ProtoMessage,
  violations: FieldViolation[],
  required: boolean,
): Set<FieldSpec> {
  const skipped = new Set<FieldSpec>();
  if (!spec.alternatives.size) return skipped;
  for (const group of spec.alternatives.values()) {
    const fields = group.filter((field) => writable.includes(field));
    if (fields.length < 2) continue;
    const sent = fields.filter((field) => isSent(field, message[field.protoName]));
    for (const field of fields) if (field !== sent[0]) skipped.add(field);
    if (sent.length > 1) {
      skipped.add(sent[0]);
      violations.push({ field: sent[1].protoName, description: `Send either ${sent.map((f) => f.protoName).join(' or ')}, not both.` });
    } else if (!sent.length && required && fields.some((field) => field.required)) {
      const named = fields.find((field) => field.required && !field.serializer) ?? fields.find((field) => field.required)!;
      violations.push({ field: named.protoName, description: 'This field is required.', reason: 'REQUIRED' });
    }
  }
  return skipped;
}

/** Violations with what write-only fields were sent taken out of every description (a password is never echoed). */
export function redacted(violations: FieldViolation[], writable: readonly FieldSpec[], data: SerializerData): FieldViolation[] {
  const secrets = writable
    .filter((field) => field.writeOnly)
    .map((field) => data[field.property])
    .filter((value): value is string | number => (typeof value === 'string' && value.trim() !== '') || typeof value === 'number')
    .map(String);
  if (!secrets.length) return violations;
  return violations.map((v) => ({
    ...v,
    description: secrets.reduce((text, secret) => text.split(secret).join('[hidden]'), v.description),
  }));
}

/** The class-validator rules of a serializer class (on its `prototype`) run on the fields present. */
export async function classValidatorViolations(
  prototype: object,
  spec: SerializerSpec,
  cleaned: SerializerData,
  present: readonly FieldSpec[],
): Promise<FieldViolation[]> {
  // Validate a bare object of the class: the serializer's own state never mixes with the data.
  const target = Object.create(prototype) as Record<string, unknown>;
  for (const field of present) {
    const value = cleaned[field.property];
    // DRF skips validators for blank-allowed '' and for null; class-validator skips missing values.
    if (value === '' || value === null) continue;
    // The rules decorate the serializer's properties: the fields' names.
    Object.defineProperty(target, field.name, { value, enumerable: true, writable: true, configurable: true });
  }
  const errors = await validate(target, { skipMissingProperties: true, forbidUnknownValues: false });
  return errors.flatMap((error) =>
    Object.values(error.constraints ?? {}).map((description) => ({
      field: spec.fields.find((f) => f.name === error.property)?.protoName ?? error.property,
      description,
    })),
  );
}
