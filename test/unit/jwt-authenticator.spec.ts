import { Metadata } from '@grpc/grpc-js';
import { JwtService } from '@nestjs/jwt';
import { AuthenticationFailedError, JwtAuthenticator } from 'nestjs-grpc-framework';

const SECRET = 'a secret of at least thirty-two bytes for HS256';
const jwt = new JwtService({ secret: SECRET });
const bearer = (token: string) => {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return metadata;
};

describe('JwtAuthenticator', () => {
  afterEach(() => jest.restoreAllMocks());

  it('verifies a token once, then remembers it, still checking its expiry on every call', async () => {
    const authenticator = new JwtAuthenticator({ secret: SECRET });
    const verify = jest.spyOn(JwtService.prototype, 'verify');
    const token = jwt.sign({ sub: 'ann' }, { expiresIn: 60 });
    for (let i = 0; i < 3; i++) expect(await authenticator.authenticate(bearer(token))).toMatchObject({ sub: 'ann' });
    expect(verify).toHaveBeenCalledTimes(1);
    // A minute later the remembered token has expired: refused, as an unknown one would be.
    const now = Date.now();
    jest.spyOn(Date, 'now').mockReturnValue(now + 61_000);
    expect(() => authenticator.authenticate(bearer(token))).toThrow(new AuthenticationFailedError('Invalid bearer token.'));
  });

  it('verifies every call with cacheSize 0, and never remembers a refused token', () => {
    const uncached = new JwtAuthenticator({ secret: SECRET, cacheSize: 0 });
    const verify = jest.spyOn(JwtService.prototype, 'verify');
    const token = jwt.sign({ sub: 'bo' });
    uncached.authenticate(bearer(token));
    uncached.authenticate(bearer(token));
    expect(verify).toHaveBeenCalledTimes(2);
    const cached = new JwtAuthenticator({ secret: SECRET });
    const forged = jwt.sign({ sub: 'bo' }, { secret: 'another secret of at least thirty-two bytes' });
    for (let i = 0; i < 2; i++) expect(() => cached.authenticate(bearer(forged))).toThrow('Invalid bearer token.');
    expect(verify).toHaveBeenCalledTimes(4);
  });

  it('leaves calls without a bearer token to other authenticators', () => {
    const authenticator = new JwtAuthenticator({ secret: SECRET });
    expect(authenticator.authenticate(new Metadata())).toBeNull();
    const basic = new Metadata();
    basic.set('authorization', 'Basic YWxpY2U6c2VjcmV0');
    expect(authenticator.authenticate(basic)).toBeNull();
  });

  it('refuses two credentials whatever their schemes, instead of choosing one', () => {
    const authenticator = new JwtAuthenticator({ secret: SECRET });
    const twice = bearer(jwt.sign({ sub: 'ann' }));
    twice.add('authorization', 'Basic YWxpY2U6c2VjcmV0');
    expect(() => authenticator.authenticate(twice)).toThrow(new AuthenticationFailedError('Send one authorization credential, not 2.'));
  });
});
