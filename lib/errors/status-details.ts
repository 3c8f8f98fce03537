import { Metadata } from '@grpc/grpc-js';
import { getProtoPath } from 'google-proto-files';
import * as protobuf from 'protobufjs';
import type { FieldViolation } from './grpc-error';
import { boundedViolations, STATUS_LIMITS } from './status-limits';

/** The trailer key in which gRPC's rich error model carries a serialized `google.rpc.Status`. */
export const STATUS_DETAILS_KEY = 'grpc-status-details-bin';
const BAD_REQUEST_TYPE_URL = 'type.googleapis.com/google.rpc.BadRequest';

interface RichErrorTypes {
  Status: protobuf.Type;
  BadRequest: protobuf.Type;
}

let types: RichErrorTypes | undefined;

// Loaded on the first rich error, not at import: most processes never send one.
function richErrorTypes(): RichErrorTypes {
  if (!types) {
    const root = new protobuf.Root();
    root.loadSync([getProtoPath('rpc', 'status.proto'), getProtoPath('rpc', 'error_details.proto')], {
      keepCase: true,
    });
    types = {
      Status: root.lookupType('google.rpc.Status'),
      BadRequest: root.lookupType('google.rpc.BadRequest'),
    };
  }
  return types;
}

/**
 * Trailing metadata carrying a `google.rpc.Status` whose details hold one
 * `google.rpc.BadRequest` with the given field violations, within `STATUS_LIMITS`: at most
 * `violations` of them (plus one counting the rest), fewer when their text is long.
 */
export function badRequestMetadata(code: number, message: string, violations: readonly FieldViolation[]): Metadata {
  let keep: number = STATUS_LIMITS.violations;
  let bytes = encodeStatus(code, message, boundedViolations(violations, keep));
  while (bytes.length > STATUS_LIMITS.detailsBytes && keep > 0) {
    keep = Math.floor(keep / 2);
    bytes = encodeStatus(code, message, boundedViolations(violations, keep));
  }
  const metadata = new Metadata();
  metadata.set(STATUS_DETAILS_KEY, Buffer.from(bytes));
  return metadata;
}

function encodeStatus(code: number, message: string, violations: readonly FieldViolation[]): Uint8Array {
  const { Status, BadRequest } = richErrorTypes();
  const badRequest = BadRequest.encode(
    BadRequest.fromObject({
      field_violations: violations.map((v) => ({ field: v.field, description: v.description, reason: v.reason ?? 'INVALID' })),
    }),
  ).finish();
  return Status.encode(Status.fromObject({ code, message, details: [{ type_url: BAD_REQUEST_TYPE_URL, value: badRequest }] })).finish();
}

/** One `google.protobuf.Any` of a `google.rpc.Status`, with its JSON form when it is a `BadRequest`. */
export interface StatusDetail {
  /** The fully qualified type name (the type URL without its prefix). */
  type: string;
  value: Uint8Array;
  /** The detail in proto3 JSON, for readers of JSON errors. */
  debug?: { fieldViolations: { field: string; description: string; reason?: string }[] };
}

/** The details of a serialized `google.rpc.Status` (as carried in `grpc-status-details-bin`); none when it does not decode. */
export function decodeStatusDetails(bytes: Uint8Array): StatusDetail[] {
  const { Status, BadRequest } = richErrorTypes();
  let decoded: { details?: { type_url?: string; value?: Uint8Array }[] };
  try {
    decoded = Status.toObject(Status.decode(bytes), { defaults: false }) as typeof decoded;
  } catch {
    return [];
  }
  return (decoded.details ?? []).map((any) => {
    const type = (any.type_url ?? '').slice((any.type_url ?? '').lastIndexOf('/') + 1);
    const value = any.value ?? new Uint8Array();
    const detail: StatusDetail = { type, value };
    if (any.type_url === BAD_REQUEST_TYPE_URL) {
      const badRequest = BadRequest.toObject(BadRequest.decode(value)) as {
        field_violations?: { field: string; description: string; reason?: string }[];
      };
      detail.debug = {
        fieldViolations: (badRequest.field_violations ?? []).map(({ field, description, reason }) => ({
          field,
          description,
          ...(reason ? { reason } : {}),
        })),
      };
    }
    return detail;
  });
}
