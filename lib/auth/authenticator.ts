import { status } from '@grpc/grpc-js';
import type { Metadata } from '@grpc/grpc-js';
import { GrpcError } from '../errors/grpc-error';
import type { CallContext } from '../call/call-context';

/**
 * Turns a call's metadata into a caller, as a Django REST framework authentication class does:
 * `authenticate` resolves with the user when the call carries this kind of credential and it
 * is valid, with null when it carries none (the next authenticator is asked), and throws
 * `AuthenticationFailedError` when it carries one that is not valid.
 *
 * @publicApi
 */
export interface Authenticator {
  authenticate(metadata: Metadata, call: CallContext): unknown;
  /** The credential it reads, for the error a call without any gets: `a bearer token (authorization: Bearer <JWT>)`. */
  readonly expects: string;
}

/** UNAUTHENTICATED: a credential was sent but is not valid. @publicApi */
export class AuthenticationFailedError extends GrpcError {
  constructor(message: string) {
    super(status.UNAUTHENTICATED, message);
  }
}

/** Runs authenticators in order: the first that recognises a credential decides. */
export async function authenticate(authenticators: readonly Authenticator[], call: CallContext): Promise<unknown> {
  for (const authenticator of authenticators) {
    const user = await authenticator.authenticate(call.metadata, call);
    if (user !== null && user !== undefined) return user;
  }
  return null;
}
