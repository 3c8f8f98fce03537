import { status } from '@grpc/grpc-js';
import { describeViolations } from './status-limits';

/** One invalid field, reported as a `google.rpc.BadRequest.FieldViolation`. */
export interface FieldViolation {
  /** The proto field name (snake_case), or `non_field_errors` for message-level rules. */
  field: string;
  description: string;
  /** A short UPPER_SNAKE_CASE code for programs, e.g. `REQUIRED`, `UNIQUE`, `DOES_NOT_EXIST`. @default 'INVALID' */
  reason?: string;
}

/**
 * An error with a gRPC status. Throw it (or one of its subclasses) from a handler
 * to end the call with that status; the message is sent to the client as is.
 *
 * @publicApi
 */
export class GrpcError extends Error {
  constructor(
    readonly code: status,
    message: string,
    readonly fieldViolations: readonly FieldViolation[] = [],
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * INVALID_ARGUMENT with one violation per invalid field; the client receives them as
 * `google.rpc.BadRequest` in `grpc-status-details-bin` and as a readable message.
 *
 * @publicApi
 */
export class ValidationFailedError extends GrpcError {
  constructor(violations: readonly FieldViolation[], code: status = status.INVALID_ARGUMENT) {
    super(code, describeViolations(violations), violations);
  }

  /** The violations grouped by field, in the order they were found. */
  get errors(): Record<string, string[]> {
    return groupByField(this.fieldViolations);
  }
}

/** NOT_FOUND for a lookup that matched nothing, e.g. `Post: 5 not found`. @publicApi */
export class ObjectNotFoundError extends GrpcError {
  constructor(entityName: string, lookupValue: unknown) {
    super(status.NOT_FOUND, `${entityName}: ${String(lookupValue)} not found`);
  }
}

/** Violation descriptions by field, in the order they were found (what `serializer.errors` shows). */
export function groupByField(violations: readonly FieldViolation[]): Record<string, string[]> {
  const byField: Record<string, string[]> = {};
  for (const v of violations) (byField[v.field] ??= []).push(v.description);
  return byField;
}
