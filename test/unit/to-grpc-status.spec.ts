import { Metadata, status } from '@grpc/grpc-js';
import {
  ConnectionException,
  DeadlockException,
  DriverException,
  ForeignKeyConstraintViolationException,
  NotFoundError,
  UniqueConstraintViolationException,
} from '@mikro-orm/core';
import { RpcException } from '@nestjs/microservices';
import { ForbiddenException, NotFoundException, UnauthorizedException } from '@nestjs/common';
import { GrpcError, toGrpcStatus, ValidationFailedError } from 'nestjs-grpc-framework';
import { databaseErrorKind } from '../../lib/errors/to-grpc-status';

describe('toGrpcStatus', () => {
  it('keeps framework errors and adds BadRequest details for field violations', () => {
    expect(toGrpcStatus(new GrpcError(status.FAILED_PRECONDITION, 'not now'))).toMatchObject({
      code: status.FAILED_PRECONDITION,
      details: 'not now',
      unexpected: false,
    });
    const mapped = toGrpcStatus(new ValidationFailedError([{ field: 'title', description: 'bad' }]));
    expect(mapped).toMatchObject({ code: status.INVALID_ARGUMENT, details: 'title: bad' });
    expect(mapped.metadata?.get('grpc-status-details-bin')).toHaveLength(1);
  });

  it('maps database errors without passing driver text on', () => {
    const driverError = Object.assign(new Error('UNIQUE constraint failed: account_user.username'), { code: 'SQLITE_CONSTRAINT' });
    const unique = toGrpcStatus(new UniqueConstraintViolationException(driverError));
    expect(unique).toMatchObject({ code: status.ALREADY_EXISTS });
    expect(unique.details).not.toContain('account_user');
    expect(toGrpcStatus(new ForeignKeyConstraintViolationException(driverError)).code).toBe(status.FAILED_PRECONDITION);
    expect(toGrpcStatus(new ConnectionException(driverError))).toMatchObject({ code: status.UNAVAILABLE, unexpected: true });
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED', port: 5432 });
    expect(toGrpcStatus(refused, { databasePort: 5432 }).code).toBe(status.UNAVAILABLE);
    expect(toGrpcStatus(new DriverException(refused)).code).toBe(status.UNAVAILABLE);
  });

  it('tells which kind of database failure an error is, for the metrics, and nothing of other errors', () => {
    const driverError = Object.assign(new Error('deadlock detected'), { code: '40P01' });
    expect(databaseErrorKind(new UniqueConstraintViolationException(driverError))).toBe('unique_violation');
    expect(databaseErrorKind(new DeadlockException(driverError))).toBe('deadlock');
    expect(databaseErrorKind(new ConnectionException(driverError))).toBe('unavailable');
    expect(databaseErrorKind(new DriverException(driverError))).toBe('other');
    expect(databaseErrorKind(NotFoundError.findOneFailed('Post', { id: 1 }))).toBeUndefined();
    expect(databaseErrorKind(new GrpcError(status.NOT_FOUND, 'gone'))).toBeUndefined();
  });

  it('maps Nest HTTP exceptions (guards, auth) to their gRPC counterparts', () => {
    expect(toGrpcStatus(new ForbiddenException()).code).toBe(status.PERMISSION_DENIED);
    expect(toGrpcStatus(new UnauthorizedException()).code).toBe(status.UNAUTHENTICATED);
    expect(toGrpcStatus(new NotFoundException('gone')).code).toBe(status.NOT_FOUND);
  });

  it("keeps statuses raised on purpose, Nest's RpcException included", () => {
    expect(toGrpcStatus(new RpcException({ code: status.RESOURCE_EXHAUSTED, message: 'slow down' }))).toMatchObject({
      code: status.RESOURCE_EXHAUSTED,
      details: 'slow down',
      unexpected: false,
    });
  });

  it('does not forward what merely looks like a status: a downstream call failing is INTERNAL, logged', () => {
    // What a grpc-js client call made inside a handler rejects with: its details and metadata are not the caller's business.
    const downstream = Object.assign(new Error('14 UNAVAILABLE: No connection established'), {
      code: status.UNAVAILABLE,
      details: 'No connection established. Last error: connect ECONNREFUSED 10.0.0.7:50051',
      metadata: new Metadata(),
    });
    expect(toGrpcStatus(downstream)).toEqual({ code: status.INTERNAL, details: 'Internal server error', unexpected: true });
    expect(toGrpcStatus({ code: status.NOT_FOUND, details: 'a plain object' }).code).toBe(status.INTERNAL);
    // A refused connection to something other than the database is not "the database is unavailable".
    const elsewhere = Object.assign(new Error('connect ECONNREFUSED 10.0.0.7:8080'), { code: 'ECONNREFUSED', port: 8080 });
    expect(toGrpcStatus(elsewhere, { databasePort: 5432 }).code).toBe(status.INTERNAL);
  });

  it('turns anything else into a generic INTERNAL', () => {
    expect(toGrpcStatus(new TypeError('x is undefined at /srv/app.js:1'))).toEqual({
      code: status.INTERNAL,
      details: 'Internal server error',
      unexpected: true,
    });
    expect(toGrpcStatus('boom').code).toBe(status.INTERNAL);
  });
});

describe('status size', () => {
  /** What a C-core client counts against its 8 KiB header limit: name + value + 32 per entry. */
  const headerBytes = (details: string, bin?: Buffer) =>
    'grpc-status'.length +
    2 +
    32 +
    'grpc-message'.length +
    encodeURIComponent(details).length +
    32 +
    (bin ? 'grpc-status-details-bin'.length + Math.ceil(bin.length / 3) * 4 + 32 : 0);

  it('stays within what every client accepts, however many and however long the violations', () => {
    const violations = Array.from({ length: 5000 }, (_, i) => ({ field: `field_${i}`, description: `é${'x'.repeat(2000)}` }));
    const mapped = toGrpcStatus(new ValidationFailedError(violations));
    const [bin] = mapped.metadata!.get('grpc-status-details-bin') as Buffer[];
    expect(headerBytes(mapped.details, bin)).toBeLessThan(8192);
    expect(mapped.details).toMatch(/^field_0: éx+…; field_1: /);
    expect(mapped.details.endsWith(' … (cut)') || mapped.details.endsWith('and 4995 more')).toBe(true);
  });

  it('keeps short statuses as they are and counts the violations it leaves out', () => {
    const violations = Array.from({ length: 25 }, (_, i) => ({ field: `f${i}`, description: 'bad' }));
    const mapped = toGrpcStatus(new ValidationFailedError(violations));
    expect(mapped.details).toBe('f0: bad; f1: bad; f2: bad; f3: bad; f4: bad; and 20 more');
    expect(toGrpcStatus(new GrpcError(status.NOT_FOUND, 'x'.repeat(100_000))).details.length).toBeLessThanOrEqual(1024);
  });
});
