import { status } from '@grpc/grpc-js';
import { CanActivate, ExecutionContext } from '@nestjs/common';
import { GrpcError } from '../errors/grpc-error';
import type { CallContext } from '../call/call-context';

/**
 * A Django REST framework permission class, in Nest's words: `hasPermission` is asked before
 * the handler runs, `hasObjectPermission` when `getObject()` has found the object. Either may
 * be left out (allowed). A permission class is also a Nest guard (`@UseGuards(IsAuthenticated)`).
 *
 * @publicApi
 */
export interface Permission {
  hasPermission?(call: CallContext, service: object): boolean | Promise<boolean>;
  hasObjectPermission?(call: CallContext, service: object, object: object): boolean | Promise<boolean>;
  /** What a refused caller is told. @default 'You do not have permission to perform this action.' */
  readonly message?: string;
}

/** A permission class (made once per service class) or a permission object. */
export type PermissionLike = (new () => Permission) | Permission;

/**
 * Permissions of a service: one list for every action, or lists per action with a `default`
 * for the others: `{ default: [IsAuthenticated], Destroy: [IsAdmin] }`.
 */
export type ServicePermissions =
  | readonly PermissionLike[]
  | { readonly default?: readonly PermissionLike[]; readonly [action: string]: readonly PermissionLike[] | undefined };

/** The base of the permission classes here: each is a guard too, refusing as the framework does. */
export abstract class BasePermission implements Permission, CanActivate {
  readonly message?: string;

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const call = context.switchToRpc().getContext<CallContext>();
    if (!this.hasPermission || (await this.hasPermission(call, context.getClass()))) return true;
    throw refusal(call, this);
  }

  hasPermission?(call: CallContext, service: object): boolean | Promise<boolean>;
}

/** Any caller, anonymous or not (DRF's `AllowAny`). @publicApi */
export class AllowAny extends BasePermission {
  override hasPermission(): boolean {
    return true;
  }
}

/** Only authenticated callers (DRF's `IsAuthenticated`). @publicApi */
export class IsAuthenticated extends BasePermission {
  override hasPermission(call: CallContext): boolean {
    return call.user !== null && call.user !== undefined;
  }
}

/** The actions that only read (DRF's `SAFE_METHODS`): what `IsAuthenticatedOrReadOnly` lets anyone do. @publicApi */
export const READ_ACTIONS: ReadonlySet<string> = new Set(['List', 'ListPage', 'Retrieve']);

/** Anyone may read (List, ListPage, Retrieve); only authenticated callers may write (DRF's `IsAuthenticatedOrReadOnly`). @publicApi */
export class IsAuthenticatedOrReadOnly extends BasePermission {
  override hasPermission(call: CallContext): boolean {
    return READ_ACTIONS.has(call.action) || (call.user !== null && call.user !== undefined);
  }
}

/**
 * The error for a refused caller: as in DRF, UNAUTHENTICATED when the caller sent no valid
 * credential (it may try again with one), PERMISSION_DENIED when it is known.
 */
export function refusal(call: CallContext, permission: Permission, expects?: string): GrpcError {
  const message = permission.message ?? 'You do not have permission to perform this action.';
  if (call.user === null || call.user === undefined) {
    return new GrpcError(status.UNAUTHENTICATED, `Authentication credentials were not provided${expects ? `: send ${expects}` : ''}.`);
  }
  return new GrpcError(status.PERMISSION_DENIED, message);
}
