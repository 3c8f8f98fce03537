import type { MikroORM } from '@mikro-orm/core';
import { REQUEST_ID_FIELD } from '../idempotency/idempotent-write';
import { GrpcRequestRecord } from '../idempotency/request-record.entity';
import type { BoundRpc } from '../transport/bound-rpc';

/**
 * What stops idempotent writes (a `request_id` request field, AIP-155) from working: a field of
 * another type, or no `GrpcRequestRecord` among MikroORM's entities to store responses in.
 */
export function requestIdProblems(bound: readonly BoundRpc[], orm: MikroORM | undefined): string[] {
  const problems: string[] = [];
  const idempotent: string[] = [];
  for (const { rpc } of bound) {
    const field = rpc.request.type.fields[REQUEST_ID_FIELD];
    if (!field) continue;
    if (field.type !== 'string' || field.repeated || field.map) {
      problems.push(`${rpc.path}: ${REQUEST_ID_FIELD} must be a string field (a UUID the client chooses, AIP-155), not ${field.type}.`);
      continue;
    }
    idempotent.push(rpc.path);
  }
  if (idempotent.length && !orm?.getMetadata().has(GrpcRequestRecord.meta.className)) {
    problems.push(
      `${idempotent.join(', ')} take${idempotent.length === 1 ? 's' : ''} a ${REQUEST_ID_FIELD}, so their responses are stored for retries: ` +
        "add GrpcRequestRecord (import { GrpcRequestRecord } from 'nestjs-grpc-framework') to MikroORM's entities and create its table " +
        '(grpc_framework_request: the schema generator or a migration).',
    );
  }
  return problems;
}
