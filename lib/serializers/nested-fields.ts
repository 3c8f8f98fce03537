import { Reference } from '@mikro-orm/core';
import type { FieldViolation } from '../errors/grpc-error';
import type { FieldSpec } from './field-spec';
import type { ProtoSerializer, ProtoSerializerClass } from './proto-serializer';

// Which message fields count as sent, and helpers of nested serializer fields: their
// violations' paths, and which need their batch computed fields run for a whole batch.

/** Kinds whose '' is a value of its own (a text), not proto3's way of saying "not sent". */
const EMPTY_IS_A_VALUE = new Set<FieldSpec['kind']>(['string', 'text', 'any']);

/**
 * Whether a message sends a field: proto3 sends an unset string as '', which for values carried
 * as strings (decimals, dates...) means "not sent", and an unset list of nested messages as [].
 */
export function isSent(field: FieldSpec, value: unknown): boolean {
  if (value === undefined) return false;
  if (value === '' && !EMPTY_IS_A_VALUE.has(field.kind)) return false;
  return !(field.serializer && Array.isArray(value) && value.length === 0);
}

/** A nested serializer's violations, each field named by its path from the outer message. */
export async function nestedViolations(serializer: ProtoSerializer<object>, prefix: string): Promise<FieldViolation[]> {
  if (await serializer.isValid()) return [];
  return serializer.fieldViolations.map((v) => ({ ...v, field: `${prefix}${v.field}` }));
}

const nestedBatches = new WeakMap<Function, readonly FieldSpec[]>();

/** The nested fields whose serializers (or theirs, at any depth) have batch computed fields; found once per class. */
export function nestedBatchFields(cls: ProtoSerializerClass): readonly FieldSpec[] {
  let fields = nestedBatches.get(cls);
  if (!fields) {
    fields = cls.spec().readable.filter((field) => field.serializer && !field.path && loadsBatches(field.serializer, new Set([cls])));
    nestedBatches.set(cls, fields);
  }
  return fields;
}

function loadsBatches(cls: ProtoSerializerClass, seen: Set<Function>): boolean {
  if (seen.has(cls)) return false; // a loop, refused when the serializer's relations are read
  seen.add(cls);
  const spec = cls.spec();
  return (
    spec.batchFields.length > 0 || spec.readable.some((field) => field.serializer && !field.path && loadsBatches(field.serializer, seen))
  );
}

/** The items of a list or a MikroORM collection; undefined for anything else. */
export function listItems(value: unknown): object[] | undefined {
  if (Array.isArray(value)) return value as object[];
  if (value != null && typeof (value as { getItems?: unknown }).getItems === 'function')
    return (value as { getItems(): object[] }).getItems();
  return undefined;
}

/** The objects a nested field's value holds: none, one (through a reference), or a collection's. */
export function nestedObjects(value: unknown): object[] {
  if (value == null) return [];
  return listItems(value) ?? [Reference.unwrapReference(value as object)];
}
