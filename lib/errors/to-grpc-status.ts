import { Metadata, status, StatusObject } from '@grpc/grpc-js';
import { driverMessageOf } from './driver-message';
import {
  CheckConstraintViolationException,
  ConnectionException,
  DeadlockException,
  DriverException,
  ForeignKeyConstraintViolationException,
  LockWaitTimeoutException,
  NotFoundError,
  NotNullConstraintViolationException,
  OptimisticLockError,
  UniqueConstraintViolationException,
} from '@mikro-orm/core';
import { HttpException } from '@nestjs/common';
import { INTERNAL_ERROR_MESSAGE } from '../common/constants';
import { GrpcError } from './grpc-error';
import { badRequestMetadata } from './status-details';
import { boundedMessage } from './status-limits';

/** The status sent for an error, and whether it was unexpected (and so belongs in the error log). */
export interface MappedStatus extends Partial<StatusObject> {
  code: status;
  details: string;
  metadata?: Metadata;
  unexpected: boolean;
}

const HTTP_TO_GRPC: Readonly<Record<number, status>> = {
  400: status.INVALID_ARGUMENT,
  401: status.UNAUTHENTICATED,
  403: status.PERMISSION_DENIED,
  404: status.NOT_FOUND,
  408: status.DEADLINE_EXCEEDED,
  409: status.ABORTED,
  412: status.FAILED_PRECONDITION,
  413: status.RESOURCE_EXHAUSTED,
  422: status.INVALID_ARGUMENT,
  429: status.RESOURCE_EXHAUSTED,
  499: status.CANCELLED,
  501: status.UNIMPLEMENTED,
  503: status.UNAVAILABLE,
  504: status.DEADLINE_EXCEEDED,
};

const NETWORK_ERROR_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH']);
// pg and knex report a lost connection in words only; SQLSTATE 08xxx and 57P0x are connection failures and shutdowns.
// knex ends a transaction whose BEGIN failed on a dead connection, and MikroORM's begin() does not
// report it: the next query then fails with "Transaction query already complete".
const CONNECTION_LOST =
  /connection (terminated|ended unexpectedly)|client has encountered a connection error|timeout acquiring a connection|the database system is (starting up|shutting down)|transaction query already complete/i;

/** What `toGrpcStatus` knows of the application. */
export interface StatusMappingOptions {
  /** The database's port: a refused or reset connection counts as the database's only to it (or wrapped by MikroORM). */
  databasePort?: number;
}

function expected(code: status, details: string, metadata?: Metadata): MappedStatus {
  return { code, details: boundedMessage(details), metadata, unexpected: false };
}

/**
 * Turns anything a handler throws into the status the client receives. Only errors raised on
 * purpose choose the status and its text: `GrpcError` (and `ValidationFailedError`), Nest's
 * `RpcException` and `HttpException`, and the database's refusals and outages. Anything else,
 * including an error from a downstream gRPC call (propagate one on purpose with
 * `new GrpcError(error.code, error.details)`), is INTERNAL; driver text, SQL and stacks are
 * never sent.
 */
export function toGrpcStatus(error: unknown, options: StatusMappingOptions = {}): MappedStatus {
  if (error instanceof GrpcError) {
    const metadata = error.fieldViolations.length
      ? badRequestMetadata(error.code, boundedMessage(error.message), error.fieldViolations)
      : undefined;
    return expected(error.code, error.message, metadata);
  }
  if (error instanceof UniqueConstraintViolationException) {
    return expected(status.ALREADY_EXISTS, 'A record with the same unique values already exists.');
  }
  if (error instanceof ForeignKeyConstraintViolationException) {
    return expected(status.FAILED_PRECONDITION, 'The change would break a reference between records.');
  }
  if (error instanceof NotNullConstraintViolationException) {
    return expected(status.INVALID_ARGUMENT, 'A required value is missing.');
  }
  if (error instanceof ConnectionException || isDatabaseUnreachable(error, options.databasePort)) {
    return { code: status.UNAVAILABLE, details: 'The database is unavailable; try again later.', unexpected: true };
  }
  if (error instanceof OptimisticLockError) {
    return expected(status.ABORTED, 'The record was changed by another call; retry.');
  }
  if (error instanceof NotFoundError) {
    return expected(status.NOT_FOUND, 'Not found.');
  }
  if (error instanceof HttpException) {
    const code = HTTP_TO_GRPC[error.getStatus()];
    if (code !== undefined) return expected(code, httpExceptionDetails(error));
  }
  const rpc = rpcExceptionStatus(error);
  if (rpc) return expected(rpc.code, rpc.details);
  return { code: status.INTERNAL, details: INTERNAL_ERROR_MESSAGE, unexpected: true };
}

/** What went wrong in the database, as a metric's label: a fixed set, never a driver's text. */
export type DatabaseErrorKind =
  | 'unique_violation'
  | 'foreign_key_violation'
  | 'not_null_violation'
  | 'check_violation'
  | 'deadlock'
  | 'lock_timeout'
  | 'optimistic_lock'
  | 'unavailable'
  | 'other';

/** The kind of database failure `error` is, or undefined when it is not the database's. */
export function databaseErrorKind(error: unknown, options: StatusMappingOptions = {}): DatabaseErrorKind | undefined {
  if (error instanceof UniqueConstraintViolationException) return 'unique_violation';
  if (error instanceof ForeignKeyConstraintViolationException) return 'foreign_key_violation';
  if (error instanceof NotNullConstraintViolationException) return 'not_null_violation';
  if (error instanceof CheckConstraintViolationException) return 'check_violation';
  if (error instanceof DeadlockException) return 'deadlock';
  if (error instanceof LockWaitTimeoutException) return 'lock_timeout';
  if (error instanceof OptimisticLockError) return 'optimistic_lock';
  if (error instanceof ConnectionException || isDatabaseUnreachable(error, options.databasePort)) return 'unavailable';
  return error instanceof DriverException ? 'other' : undefined;
}

/**
 * What an HttpException says: the messages of its response (`ValidationPipe`'s
 * BadRequestException lists one per failed rule), else its message.
 */
function httpExceptionDetails(error: HttpException): string {
  const response = error.getResponse();
  const message = response && typeof response === 'object' ? (response as { message?: unknown }).message : undefined;
  if (Array.isArray(message) && message.every((item) => typeof item === 'string')) return message.join('; ');
  return typeof message === 'string' ? message : error.message;
}

/**
 * Whether the error says the database cannot be reached: a MikroORM driver error or knex pool
 * timeout, pg's words for a lost connection, SQLSTATE 08xxx / 57P0x, or a refused or reset
 * connection to the database's port. The same codes from any other connection (a downstream
 * service) are not the database's.
 */
function isDatabaseUnreachable(error: unknown, databasePort: number | undefined): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'KnexTimeoutError' || CONNECTION_LOST.test(driverMessageOf(error))) return true;
  const { code, port } = error as NodeJS.ErrnoException & { port?: number };
  if (typeof code !== 'string') return false;
  if (/^(08|57P0)/.test(code)) return true;
  if (!NETWORK_ERROR_CODES.has(code)) return false;
  return error instanceof DriverException || (databasePort !== undefined && port === databasePort);
}

/** Nest's `RpcException` carries a status on purpose: `{ code, message }` (or `details`), or a message (UNKNOWN). */
function rpcExceptionStatus(error: unknown): { code: status; details: string } | undefined {
  if (!isNamed(error, 'RpcException')) return undefined;
  const payload = (error as { getError(): unknown }).getError();
  if (typeof payload === 'string') return { code: status.UNKNOWN, details: payload };
  const { code, details, message } = (payload ?? {}) as { code?: unknown; details?: unknown; message?: unknown };
  if (typeof code !== 'number' || !Number.isInteger(code) || code < 1 || code > 16) return undefined;
  return { code, details: typeof details === 'string' ? details : typeof message === 'string' ? message : '' };
}

/** Whether `error`'s class, or a parent class, has this name (for classes of packages that are not dependencies). */
function isNamed(error: unknown, name: string): boolean {
  for (let proto = error && typeof error === 'object' ? Object.getPrototypeOf(error) : null; proto; proto = Object.getPrototypeOf(proto)) {
    if (proto.constructor?.name === name) return true;
  }
  return false;
}
