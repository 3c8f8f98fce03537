import { status } from '@grpc/grpc-js';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager, EntityMetadata } from '@mikro-orm/core';
import { FieldViolation, ValidationFailedError } from '../errors/grpc-error';
import { equalTo } from '../orm/equal-to';
import type { FieldSpec } from './field-spec';
import type { SerializerData } from './proto-serializer';

// What only the database can say about data that passed validation: a unique value already
// taken, a related row that does not exist; and a write the database refused for one of those
// reasons (a concurrent call took the value, or deleted the row) in the words of validation.

/** The rows a unique value is checked against: the entity's, but for the object being updated. */
export interface CheckedRows {
  meta: EntityMetadata;
  excluding?: { property: string; value: unknown };
}

/** What explains a refusal: the serializer whose save met it. */
export interface RefusedWrite {
  uniqueViolations(em: EntityManager): Promise<FieldViolation[]>;
  relationViolations(em: EntityManager): Promise<FieldViolation[]>;
}

/** The unique fields already taken and the related ids that do not exist, among `fields` of `data`. */
export async function databaseViolations(
  emOf: () => EntityManager | undefined,
  rows: CheckedRows,
  data: SerializerData,
  fields: readonly FieldSpec[],
): Promise<FieldViolation[]> {
  const violations: FieldViolation[] = [];
  for (const field of fields) {
    const value = data[field.property];
    if (value === null || value === undefined) continue;
    const isRelation = isRelationField(field);
    if (!isRelation && !(field.unique && value !== '')) continue;
    // Asked only when a field needs it (a service's context forks an EntityManager on first read).
    const em = emOf();
    if (!em) return violations;
    if (isRelation) violations.push(...(await missingRelated(em, field, value)));
    else if (await isTaken(em, rows, field, value)) violations.push(taken(rows, field));
  }
  return violations;
}

/** Which unique fields of `data` are already taken. */
export async function takenValues(
  em: EntityManager,
  rows: CheckedRows,
  data: SerializerData,
  fields: readonly FieldSpec[],
): Promise<FieldViolation[]> {
  const violations: FieldViolation[] = [];
  for (const field of fields) {
    const value = data[field.property];
    if (field.unique && value != null && value !== '' && (await isTaken(em, rows, field, value))) violations.push(taken(rows, field));
  }
  return violations;
}

/** Which related ids of `data` do not exist. */
export async function missingRelations(em: EntityManager, data: SerializerData, fields: readonly FieldSpec[]): Promise<FieldViolation[]> {
  const violations: FieldViolation[] = [];
  for (const field of fields) {
    if (isRelationField(field) && data[field.property] != null) violations.push(...(await missingRelated(em, field, data[field.property])));
  }
  return violations;
}

/**
 * A unique or foreign-key refusal as the field violation validation would have reported, when
 * the database shows which field it was; else the error. Looks from a fork of `em`, inside its
 * outer transaction if there is one (a test's).
 */
export async function refusalInWordsOfValidation(em: EntityManager, error: unknown, write: RefusedWrite): Promise<unknown> {
  const isUnique = error instanceof UniqueConstraintViolationException;
  const fork = em.fork();
  const outer = em.getTransactionContext();
  if (outer) fork.setTransactionContext(outer);
  const violations = isUnique ? await write.uniqueViolations(fork) : await write.relationViolations(fork);
  if (!violations.length) return error;
  return new ValidationFailedError(violations, isUnique ? status.ALREADY_EXISTS : status.INVALID_ARGUMENT);
}

/** Refusals met inside a transaction, to explain once it has rolled back. */
const refusals = new WeakMap<object, { em: EntityManager; write: RefusedWrite }>();

/**
 * Keeps a refusal met inside a transaction, whose database may not answer until it has rolled
 * back (PostgreSQL aborts it), and returns it to throw: `explainRefusal` explains it then.
 */
export function refusalToExplain(error: object, em: EntityManager, write: RefusedWrite): object {
  refusals.set(error, { em, write });
  return error;
}

/**
 * A unique or foreign-key refusal met by a serializer's save inside a transaction, turned into
 * the field violation validation would have reported; call it after the transaction rolled back.
 */
export async function explainRefusal(error: unknown): Promise<unknown> {
  const refused = error && typeof error === 'object' ? refusals.get(error) : undefined;
  return refused ? refusalInWordsOfValidation(refused.em, error, refused.write) : error;
}

function isRelationField(field: FieldSpec): boolean {
  return (field.kind === 'relation' || field.kind === 'relations') && field.target !== undefined;
}

/** Django REST framework's words for a unique value already taken. */
function taken(rows: CheckedRows, field: FieldSpec): FieldViolation {
  return {
    field: field.protoName,
    description: `${rows.meta.className} with this ${field.protoName} already exists.`,
    reason: 'UNIQUE',
  };
}

async function isTaken(em: EntityManager, rows: CheckedRows, field: FieldSpec, value: unknown): Promise<boolean> {
  const where: Record<string, unknown> = { [field.property]: equalTo(value) };
  if (rows.excluding) where[rows.excluding.property] = { $ne: rows.excluding.value };
  return (await em.count(rows.meta.className, where)) > 0;
}

/** Related ids named in one violation before the rest are counted. */
const NAMED_MISSING_IDS = 10;

/** One query for the field's ids; one violation naming the ids that do not exist. */
async function missingRelated(em: EntityManager, field: FieldSpec, value: unknown): Promise<FieldViolation[]> {
  const target = field.target!;
  const ids = Array.isArray(value) ? value : [value];
  if (!ids.length) return [];
  // Outside the identity map: a key-only entity left there would pass for the loaded object later.
  const rows = await em.find(target.entityName, { [target.primaryKey]: { $in: ids } } as never, {
    fields: [target.primaryKey] as never,
    disableIdentityMap: true,
  });
  const found = new Set(rows.map((row) => String((row as Record<string, unknown>)[target.primaryKey])));
  const missing = ids.filter((id) => !found.has(String(id))).map((id) => `"${String(id)}"`);
  if (!missing.length) return [];
  const named = missing.slice(0, NAMED_MISSING_IDS).join(', ');
  const more = missing.length > NAMED_MISSING_IDS ? ` and ${missing.length - NAMED_MISSING_IDS} more` : '';
  const description =
    missing.length === 1 ? `Invalid pk ${named} - object does not exist.` : `Invalid pks ${named}${more} - objects do not exist.`;
  return [{ field: field.protoName, description, reason: 'DOES_NOT_EXIST' }];
}
