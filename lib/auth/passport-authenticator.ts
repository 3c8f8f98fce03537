import type { Metadata } from '@grpc/grpc-js';
import type { CallContext } from '../call/call-context';
import { AuthenticationFailedError, Authenticator } from './authenticator';

/** What a Passport strategy calls to say how authentication went (passport-strategy's actions). */
export interface PassportStrategyActions {
  success(user: unknown, info?: unknown): void;
  fail(challenge?: unknown, status?: number): void;
  error(error: unknown): void;
  pass(): void;
  redirect(url: string, status?: number): void;
}

/** A Passport strategy, e.g. `new Strategy(verify)` from passport-http-bearer or passport-jwt, or a `@nestjs/passport` strategy. */
export interface PassportStrategyLike {
  authenticate(this: PassportStrategyActions, request: PassportRequest, options?: unknown): void;
}

/** The request a strategy reads: the call's metadata as HTTP headers (lower-case names, first values). */
export interface PassportRequest {
  headers: Record<string, string>;
  query: Record<string, string>;
  body: Record<string, unknown>;
  get(name: string): string | undefined;
  header(name: string): string | undefined;
  /** The call being authenticated. */
  call: CallContext;
}

export interface PassportAuthenticatorOptions {
  /** The credential, for the error a call without one gets: `a bearer token (authorization: Bearer <token>)`. */
  expects: string;
  /** The metadata key that carries the credential: a call without it is anonymous, and the strategy is not asked. @default 'authorization' */
  metadataKey?: string;
  /** Options given to the strategy's `authenticate`. */
  strategyOptions?: unknown;
}

/**
 * Authenticates calls with a Passport strategy, as `passport.authenticate()` does for an HTTP
 * request: the strategy sees the call's metadata as headers, and the user it succeeds with is
 * the caller. A call without the credential's metadata key is anonymous; one the strategy
 * fails is UNAUTHENTICATED ("Invalid credentials."); one it errors on is INTERNAL.
 *
 * @publicApi
 */
export class PassportAuthenticator implements Authenticator {
  readonly expects: string;
  private readonly metadataKey: string;

  constructor(
    private readonly strategy: PassportStrategyLike,
    private readonly options: PassportAuthenticatorOptions,
  ) {
    this.expects = options.expects;
    this.metadataKey = options.metadataKey ?? 'authorization';
  }

  authenticate(metadata: Metadata, call: CallContext): Promise<unknown> | null {
    const credentials = metadata.get(this.metadataKey).length;
    if (!credentials) return null;
    // The strategy would see only the first: two credentials are refused, not one chosen.
    if (credentials > 1)
      return Promise.reject(new AuthenticationFailedError(`Send one ${this.metadataKey} credential, not ${credentials}.`));
    const request = passportRequest(metadata, call);
    return new Promise((resolve, reject) => {
      // As passport does: the strategy runs on an object of its own whose actions settle this call.
      const attempt = Object.create(this.strategy) as PassportStrategyActions & PassportStrategyLike;
      attempt.success = (user) => resolve(user);
      attempt.fail = () => reject(new AuthenticationFailedError('Invalid credentials.'));
      attempt.pass = () => resolve(null);
      attempt.redirect = () => reject(new AuthenticationFailedError('Invalid credentials.'));
      attempt.error = (error) => reject(error);
      try {
        attempt.authenticate(request, this.options.strategyOptions);
      } catch (error) {
        reject(error);
      }
    });
  }
}

function passportRequest(metadata: Metadata, call: CallContext): PassportRequest {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata.getMap())) if (typeof value === 'string') headers[key] = value;
  const header = (name: string) => headers[name.toLowerCase()];
  return { headers, query: {}, body: {}, get: header, header, call };
}
