import type { ServiceError } from '@grpc/grpc-js';
import { getProtoPath } from 'google-proto-files';
import * as protobuf from 'protobufjs';

const root = new protobuf.Root();
root.loadSync([getProtoPath('rpc', 'status.proto'), getProtoPath('rpc', 'error_details.proto')], { keepCase: true });
const Status = root.lookupType('google.rpc.Status');
const BadRequest = root.lookupType('google.rpc.BadRequest');

export interface DecodedViolation {
  field: string;
  description: string;
  reason: string;
}

/** Decodes `grpc-status-details-bin` into its status and BadRequest field violations. */
export function badRequestOf(error: ServiceError): { code: number; message: string; violations: DecodedViolation[] } {
  const [bytes] = error.metadata.get('grpc-status-details-bin') as Buffer[];
  if (!bytes) throw new Error(`no grpc-status-details-bin on ${error.code} ${error.details}`);
  const status = Status.toObject(Status.decode(bytes), { defaults: true }) as {
    code: number;
    message: string;
    details: { type_url: string; value: Uint8Array }[];
  };
  const detail = status.details.find((d) => d.type_url === 'type.googleapis.com/google.rpc.BadRequest');
  if (!detail) throw new Error('no BadRequest detail');
  const badRequest = BadRequest.toObject(BadRequest.decode(detail.value), { defaults: true }) as {
    field_violations: DecodedViolation[];
  };
  const violations = badRequest.field_violations.map(({ field, description, reason }) => ({ field, description, reason }));
  return { code: status.code, message: status.message, violations };
}

/** Awaits a call expected to fail and returns its error. */
export async function failureOf(promise: Promise<unknown>): Promise<ServiceError> {
  try {
    await promise;
  } catch (error) {
    return error as ServiceError;
  }
  throw new Error('the call succeeded, but a failure was expected');
}
