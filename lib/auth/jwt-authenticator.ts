import { createPublicKey, createSecretKey } from 'node:crypto';
import type { Metadata } from '@grpc/grpc-js';
import type { JwtService, JwtVerifyOptions } from '@nestjs/jwt';
import { AuthenticationFailedError, Authenticator } from './authenticator';

export interface JwtAuthenticatorOptions {
  /** The HMAC secret (HS256...) or the public key (RS256, ES256...) the tokens are signed with. */
  secret?: string | Buffer;
  publicKey?: string | Buffer;
  /** Checks beyond the signature and expiry: `issuer`, `audience`, `algorithms`... (jsonwebtoken's). */
  verify?: Omit<JwtVerifyOptions, 'secret' | 'publicKey'>;
  /**
   * The user of a verified token's payload. Throw `AuthenticationFailedError` for a payload you
   * refuse (a `sub` that is not one of your keys), so the call is UNAUTHENTICATED before any
   * query uses it. @default the payload itself
   */
  user?: (payload: Record<string, unknown>) => unknown;
  /** A `JwtService` of your own (from `JwtModule`) instead of one made from `secret`/`publicKey`. */
  jwtService?: JwtService;
  /**
   * How many verified tokens are remembered, so a client that sends the same token on every
   * call pays for its signature once; `exp` and `nbf` are still checked on every call. 0 turns
   * it off (do, if you must stop accepting a token before it expires by changing the key). Not
   * used with `verify.maxAge`. @default 1000
   */
  cacheSize?: number;
}

/** What a remembered token allows: its payload, until `exp`, from `nbf` (seconds). */
interface VerifiedToken {
  payload: Record<string, unknown>;
  exp?: number;
  nbf?: number;
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * Reads `authorization: Bearer <JWT>` metadata and verifies the token with `@nestjs/jwt` (an
 * optional peer dependency). No authorization metadata: no caller (null). A token that is
 * malformed, wrongly signed, expired or fails a `verify` check: UNAUTHENTICATED, "Invalid
 * bearer token." (why is not said: that would help a forger).
 *
 * @publicApi
 */
export class JwtAuthenticator implements Authenticator {
  readonly expects = 'a bearer token (authorization: Bearer <JWT>)';
  private readonly jwt: JwtService;
  private readonly verified = new Map<string, VerifiedToken>();
  private readonly cacheSize: number;

  constructor(private readonly options: JwtAuthenticatorOptions) {
    if (!options.jwtService && options.secret === undefined && options.publicKey === undefined) {
      throw new Error(
        'JwtAuthenticator needs the key tokens are signed with: { secret } (HS256), { publicKey } (RS256, ES256), or { jwtService }.',
      );
    }
    // jsonwebtoken 9 turns a string or Buffer key into a KeyObject on every verify, first trying
    // it as a public key and catching the error: made once here, a verify costs a tenth as much.
    const key =
      options.publicKey !== undefined
        ? createPublicKey(options.publicKey)
        : options.secret !== undefined
          ? createSecretKey(Buffer.from(options.secret))
          : undefined;
    this.jwt = options.jwtService ?? new (loadJwt().JwtService)({ secret: key as unknown as string });
    this.cacheSize = options.verify?.maxAge !== undefined ? 0 : (options.cacheSize ?? 1000);
  }

  authenticate(metadata: Metadata): unknown {
    const values = metadata.get('authorization');
    if (!values.length) return null;
    // Two credentials are refused, whatever their schemes: choosing one would let a forged one ride along.
    if (values.length > 1) throw new AuthenticationFailedError(`Send one authorization credential, not ${values.length}.`);
    const match = typeof values[0] === 'string' ? BEARER.exec(values[0]) : null;
    // Another scheme (Basic...) is for another authenticator.
    if (!match) {
      if (typeof values[0] === 'string' && /^Bearer\b/i.test(values[0])) throw new AuthenticationFailedError('Invalid bearer token.');
      return null;
    }
    const payload = this.payloadOf(match[1]);
    return this.options.user ? this.options.user(payload) : payload;
  }

  /** The payload of a valid token: remembered once its signature and claims were verified, its times checked on every call. */
  private payloadOf(token: string): Record<string, unknown> {
    const known = this.verified.get(token);
    if (known) {
      const now = Date.now() / 1000;
      const tolerance = this.options.verify?.clockTolerance ?? 0;
      if ((known.exp === undefined || now < known.exp + tolerance) && (known.nbf === undefined || now >= known.nbf - tolerance))
        return known.payload;
      this.verified.delete(token);
    }
    let payload: Record<string, unknown>;
    try {
      payload = this.jwt.verify<Record<string, unknown>>(token, this.options.verify);
    } catch {
      throw new AuthenticationFailedError('Invalid bearer token.');
    }
    if (this.cacheSize > 0) {
      // Map keeps insertion order: the oldest token goes first.
      if (this.verified.size >= this.cacheSize) this.verified.delete(this.verified.keys().next().value!);
      const time = (claim: unknown) => (typeof claim === 'number' ? claim : undefined);
      this.verified.set(token, { payload, exp: time(payload.exp), nbf: time(payload.nbf) });
    }
    return payload;
  }
}

function loadJwt(): typeof import('@nestjs/jwt') {
  try {
    return require('@nestjs/jwt') as typeof import('@nestjs/jwt');
  } catch {
    throw new Error('JwtAuthenticator verifies tokens with @nestjs/jwt: npm install @nestjs/jwt (or pass { jwtService }).');
  }
}
