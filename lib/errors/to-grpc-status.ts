import { Metadata, status, StatusObject } from '@grpc/grpc-js';
import {
  ConnectionException,
  ForeignKeyConstraintViolationException,
  NotFoundError,
  NotNullConstraintViolationException,
  OptimisticLockError,
  UniqueConstraintViolationException,
} from '@mikro-orm/core';
import { HttpException } from '@nestjs/common';
import { INTERNAL_ERROR_MESSAGE } from '../constants';
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
  /connection (terminated|ended unexpectedly)|client has encountered a connection error|timeout acquiring a connection|ECONNREFUSED|ECONNRESET|the database system is (starting up|shutting down)|transaction query already complete/i;

function expected(code: status, details: string, metadata?: Metadata): MappedStatus {
  return { code, details: boundedMessage(details), metadata, unexpected: false };
}

/**
 * Turns anything a handler throws into the status the client receives.
 * Only messages written for clients are sent; driver text, SQL and stacks never are.
 */
export function toGrpcStatus(error: unknown): MappedStatus {
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
  if (error instanceof ConnectionException || isNetworkError(error)) {
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
    if (code !== undefined) return expected(code, error.message);
  }
  const grpcLike = asGrpcStatusLike(error);
  if (grpcLike) return expected(grpcLike.code, grpcLike.details, grpcLike.metadata);
  return { code: status.INTERNAL, details: INTERNAL_ERROR_MESSAGE, unexpected: true };
}

function isNetworkError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as NodeJS.ErrnoException).code;
  if (typeof code === 'string' && (NETWORK_ERROR_CODES.has(code) || /^(08|57P0)/.test(code))) return true;
  return error.name === 'KnexTimeoutError' || CONNECTION_LOST.test(error.message);
}

/** Errors shaped like grpc-js statuses (`{ code, details | message, metadata }`), e.g. Nest's RpcException payloads. */
function asGrpcStatusLike(error: unknown): { code: status; details: string; metadata?: Metadata } | undefined {
  let candidate: unknown = error;
  if (candidate && typeof (candidate as { getError?: unknown }).getError === 'function') {
    candidate = (candidate as { getError(): unknown }).getError();
  }
  if (!candidate || typeof candidate !== 'object') return undefined;
  const { code, details, message, metadata } = candidate as {
    code?: unknown;
    details?: unknown;
    message?: unknown;
    metadata?: unknown;
  };
  if (typeof code !== 'number' || !Number.isInteger(code) || code < 1 || code > 16) return undefined;
  const text = typeof details === 'string' ? details : typeof message === 'string' ? message : '';
  return { code, details: text, metadata: metadata instanceof Metadata ? metadata : undefined };
}
