import type { Metadata } from '@grpc/grpc-js';
import type { PeerCertificate } from 'node:tls';
import type { CallContext } from '../call/call-context';
import type { Authenticator } from './authenticator';

export interface MtlsAuthenticatorOptions {
  /** The user of a client certificate. @default `{ subject, issuer, fingerprint256, serialNumber }` of the certificate */
  user?: (certificate: PeerCertificate) => unknown;
}

/**
 * The caller is the client certificate of a mutual-TLS connection, on the gRPC address or the
 * web address. TLS has already checked the certificate against your CA when the server requires
 * one: serve with `tls: { cert, key, clientCa }` (or grpc-js
 * `ServerCredentials.createSsl(ca, [{ private_key, cert_chain }], true)`, whose last argument
 * must be true, or a client could present any certificate). Without a client certificate (an
 * insecure or one-way TLS connection, or in process) the call is anonymous.
 *
 * @publicApi
 */
export class MtlsAuthenticator implements Authenticator {
  readonly expects = 'a client certificate (mutual TLS)';

  constructor(private readonly options: MtlsAuthenticatorOptions = {}) {}

  authenticate(_metadata: Metadata, call: CallContext): unknown {
    const certificate = call.call.getAuthContext().sslPeerCertificate;
    if (!certificate || !certificate.fingerprint256) return null;
    if (this.options.user) return this.options.user(certificate);
    const { subject, issuer, fingerprint256, serialNumber } = certificate;
    return { subject, issuer, fingerprint256, serialNumber };
  }
}
