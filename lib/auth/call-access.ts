import type { CallContext, ObjectAccess } from '../call/call-context';
import { authenticate, Authenticator } from './authenticator';
import { Permission, PermissionLike, refusal, ServicePermissions } from './permissions';

/**
 * Who may make one rpc of one service: its authenticators find the caller, then its
 * permissions are asked, before Nest's guards and the handler run (DRF's `initial()`); object
 * permissions are asked when `getObject()` has found the object. Made once per rpc at start-up.
 */
export class CallAccess implements ObjectAccess {
  private constructor(
    private readonly authenticators: readonly Authenticator[],
    private readonly permissions: readonly Permission[],
    private readonly objectPermissions: readonly Permission[],
    private readonly hideForbiddenObjects: boolean,
  ) {}

  /** The access of `action`, or undefined when there is nothing to check (no authenticator, no permission). */
  static of(
    action: string,
    service: { authenticators?: readonly Authenticator[]; permissions?: ServicePermissions; hideForbiddenObjects?: boolean },
    defaults: { authenticators: readonly Authenticator[]; permissions?: ServicePermissions },
  ): CallAccess | undefined {
    const authenticators = service.authenticators ?? defaults.authenticators;
    const permissions = permissionsOf(service.permissions ?? defaults.permissions, action);
    if (!authenticators.length && !permissions.length) return undefined;
    return new CallAccess(
      authenticators,
      permissions,
      permissions.filter((p) => p.hasObjectPermission),
      service.hideForbiddenObjects ?? false,
    );
  }

  /** Whether objects are checked when found (`checkObject` has work). */
  get checksObjects(): boolean {
    return this.objectPermissions.length > 0;
  }

  /** Finds the caller (`call.user`) and asks the permissions; UNAUTHENTICATED or PERMISSION_DENIED when refused. */
  async check(call: CallContext, service: object): Promise<void> {
    if (this.authenticators.length) call.user = await authenticate(this.authenticators, call);
    for (const permission of this.permissions) {
      if (permission.hasPermission && !(await permission.hasPermission(call, service))) throw refusal(call, permission, this.expects());
    }
  }

  /**
   * Asks the object permissions about an object `getObject()` found; a refusal is `notFound()`
   * with `hideForbiddenObjects` (the caller cannot tell it from a missing object).
   */
  async checkObject(call: CallContext, service: object, object: object, notFound: () => Error): Promise<void> {
    for (const permission of this.objectPermissions) {
      if (await permission.hasObjectPermission!(call, service, object)) continue;
      throw this.hideForbiddenObjects ? notFound() : refusal(call, permission, this.expects());
    }
  }

  private expects(): string | undefined {
    return this.authenticators.length ? this.authenticators.map((a) => a.expects).join(' or ') : undefined;
  }
}

const instances = new WeakMap<Function, Permission>();

/** The permissions of one action, each class made once. */
function permissionsOf(permissions: ServicePermissions | undefined, action: string): Permission[] {
  if (!permissions) return [];
  const list = Array.isArray(permissions)
    ? permissions
    : ((permissions as Record<string, readonly PermissionLike[] | undefined>)[action] ??
      (permissions as { default?: readonly PermissionLike[] }).default ??
      []);
  return (list as readonly PermissionLike[]).map((permission) => {
    if (typeof permission !== 'function') return permission;
    let instance = instances.get(permission);
    if (!instance) instances.set(permission, (instance = new permission()));
    return instance;
  });
}
