import { randomBytes } from 'node:crypto';
import { JwtService } from '@nestjs/jwt';
import { AuthenticationFailedError, BasePermission, CallContext, JwtAuthenticator, READ_ACTIONS } from 'nestjs-grpc-framework';

/** The caller of a bookstore rpc, read from its bearer token. */
export interface BookstoreUser {
  id: number;
  isStaff: boolean;
}

// The key tokens are signed with. Without BOOKSTORE_JWT_SECRET each start makes a new one (the
// tokens of an earlier run stop working), and worker processes would not accept each other's.
const SECRET = process.env.BOOKSTORE_JWT_SECRET ?? randomBytes(32).toString('base64url');

/** Issues the tokens `Login` answers with: an hour long, the member's id as `sub`. */
export const bookstoreTokens = new JwtService({ secret: SECRET, signOptions: { expiresIn: '1h', algorithm: 'HS256' } });

/** Reads `authorization: Bearer <token>`; the caller is `{ id, isStaff }`. */
export const bookstoreAuthenticator = new JwtAuthenticator({
  secret: SECRET,
  verify: { algorithms: ['HS256'] },
  user: (payload): BookstoreUser => ({ id: memberIdOf(payload.sub), isStaff: payload.staff === true }),
});

/**
 * A token's subject as a member's key. A token this server signed always has one; any other
 * subject is refused like a forged token, before it reaches a query.
 */
function memberIdOf(subject: unknown): number {
  const id = typeof subject === 'string' && /^[1-9][0-9]{0,9}$/.test(subject) ? Number(subject) : 0;
  if (id < 1 || id > 2 ** 31 - 1) throw new AuthenticationFailedError('Invalid bearer token.');
  return id;
}

export function issueToken(member: { id: number; isStaff: boolean }): string {
  return bookstoreTokens.sign({ staff: member.isStaff }, { subject: String(member.id) });
}

function userOf(call: CallContext): BookstoreUser | null {
  return (call.user as BookstoreUser | null) ?? null;
}

/** Anyone may read; only staff may write. */
export class IsStaffOrReadOnly extends BasePermission {
  override readonly message = 'Only staff may change the catalogue.';

  override hasPermission(call: CallContext): boolean {
    return READ_ACTIONS.has(call.action) || userOf(call)?.isStaff === true;
  }
}

/** Anyone may read an object; only the member who owns it (or staff) may change it. */
export class IsOwnerOrStaff extends BasePermission {
  override readonly message = 'You may change only your own reviews.';

  hasObjectPermission(call: CallContext, _service: object, object: object): boolean {
    if (READ_ACTIONS.has(call.action)) return true;
    const user = userOf(call);
    const owner = (object as { member?: { id: number } | null }).member;
    return user !== null && (user.isStaff || owner?.id === user.id);
  }
}

/** A member may see and change only themself; staff, every member. */
export class IsSelfOrStaff extends BasePermission {
  override readonly message = 'You may see and change only your own account.';

  hasObjectPermission(call: CallContext, _service: object, object: object): boolean {
    const user = userOf(call);
    return user !== null && (user.isStaff || (object as { id: number }).id === user.id);
  }
}
