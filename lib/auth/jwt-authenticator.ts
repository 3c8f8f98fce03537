import type { Metadata } from '@grpc/grpc-js';
import type { JwtService, JwtVerifyOptions } from '@nestjs/jwt';
import { AuthenticationFailedError, Authenticator } from './authenticator';

export interface JwtAuthenticatorOptions {
  /** The HMAC secret (HS256...) or the public key (RS256, ES256...) the tokens are signed with. */
  secret?: string | Buffer;
  publicKey?: string | Buffer;
  /** Checks beyond the signature and expiry: `issuer`, `audience`, `algorithms`... (jsonwebtoken's). */
  verify?: Omit<JwtVerifyOptions, 'secret' | 'publicKey'>;
  /** The user of a verified token's payload. @default the payload itself */
  user?: (payload: Record<string, unknown>) => unknown;
  /** A `JwtService` of your own (from `JwtModule`) instead of one made from `secret`/`publicKey`. */
  jwtService?: JwtService;
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

  constructor(private readonly options: JwtAuthenticatorOptions) {
    if (!options.jwtService && options.secret === undefined && options.publicKey === undefined) {
      throw new Error('JwtAuthenticator needs the key tokens are signed with: { secret } (HS256), { publicKey } (RS256, ES256), or { jwtService }.');
    }
    this.jwt = options.jwtService ?? new (loadJwt().JwtService)({ secret: options.secret, publicKey: options.publicKey });
  }

  async authenticate(metadata: Metadata): Promise<unknown> {
    const values = metadata.get('authorization');
    if (!values.length) return null;
    const match = values.length === 1 && typeof values[0] === 'string' ? BEARER.exec(values[0]) : null;
    // Another scheme (Basic...) is for another authenticator.
    if (!match) {
      if (typeof values[0] === 'string' && /^Bearer\b/i.test(values[0])) throw new AuthenticationFailedError('Invalid bearer token.');
      return null;
    }
    let payload: Record<string, unknown>;
    try {
      payload = await this.jwt.verifyAsync<Record<string, unknown>>(match[1], this.options.verify);
    } catch {
      throw new AuthenticationFailedError('Invalid bearer token.');
    }
    return this.options.user ? this.options.user(payload) : payload;
  }
}

function loadJwt(): typeof import('@nestjs/jwt') {
  try {
    return require('@nestjs/jwt') as typeof import('@nestjs/jwt');
  } catch {
    throw new Error('JwtAuthenticator verifies tokens with @nestjs/jwt: npm install @nestjs/jwt (or pass { jwtService }).');
  }
}
