import { experimental, ServerCredentials } from '@grpc/grpc-js';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import { ImproperlyConfiguredError } from '../errors/improperly-configured.error';
import type { TlsOptions } from '../interfaces/grpc-framework-options.interface';
import type { WebTlsOptions } from '../interfaces/grpc-web-options.interface';

/** A certificate, its key and the client CA as PEM, read and checked. */
interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  clientCa?: Buffer;
}

/** How often certificate files are looked at for a rotation. @default 60 s */
export const DEFAULT_TLS_RELOAD_INTERVAL_MS = 60_000;

/**
 * The server's TLS from `tls: { cert, key, clientCa }`: credentials for the gRPC address and
 * options for the web address, from the same files. With a client CA, both require a client
 * certificate it signed (refused at the handshake otherwise). Given as file paths, the files are
 * read again when they change (looked at every `reloadIntervalMs`) or on SIGHUP, and new
 * connections get the new certificate with no restart: the gRPC address through grpc-js's
 * certificate provider API (this class is the provider), the web address by Node's
 * `setSecureContext`. A rotation that fails its checks (a key that does not match) is logged
 * and the old material stays.
 */
export class ServerTls implements experimental.CertificateProvider {
  private material: TlsMaterial;
  private readonly credentials: ServerCredentials;
  private readonly identityListeners = new Set<experimental.IdentityCertificateUpdateListener>();
  private readonly caListeners = new Set<experimental.CaCertificateUpdateListener>();
  private readonly secureServers = new Set<{ setSecureContext(options: object): void }>();
  private readonly watched: string[];
  private readonly onSighup = () => this.reload();

  constructor(
    private readonly options: TlsOptions,
    private readonly warn: (message: string) => void,
  ) {
    this.material = readMaterial(options);
    const requireClientCertificate = this.material.clientCa !== undefined;
    // grpc-js 1.14 declares this function's first parameter as the CA provider, but its
    // credentials take the first as the identity (certificate and key): this object is both.
    this.credentials = experimental.createCertificateProviderServerCredentials(
      this,
      requireClientCertificate ? this : null,
      requireClientCertificate,
    );
    this.watched = [options.cert, options.key, options.clientCa].filter((file): file is string => typeof file === 'string');
  }

  /** The gRPC address's credentials (updated in place on a rotation). */
  grpcCredentials(): ServerCredentials {
    return this.credentials;
  }

  /** The web address's TLS options: the same certificate, and the same client CA requirement. */
  webOptions(): WebTlsOptions {
    const { cert, key, clientCa } = this.material;
    return clientCa ? { cert, key, ca: clientCa, requestCert: true, rejectUnauthorized: true } : { cert, key };
  }

  // grpc-js adds its server's watcher only after asking for the listeners, so the first update
  // must come later (as grpc-js's own file watcher's does, once it has read the files).
  addIdentityCertificateListener(listener: experimental.IdentityCertificateUpdateListener): void {
    this.identityListeners.add(listener);
    queueMicrotask(() => listener({ certificate: this.material.cert, privateKey: this.material.key }));
  }

  removeIdentityCertificateListener(listener: experimental.IdentityCertificateUpdateListener): void {
    this.identityListeners.delete(listener);
  }

  addCaCertificateListener(listener: experimental.CaCertificateUpdateListener): void {
    this.caListeners.add(listener);
    queueMicrotask(() => listener(this.material.clientCa ? { caCertificate: this.material.clientCa } : null));
  }

  removeCaCertificateListener(listener: experimental.CaCertificateUpdateListener): void {
    this.caListeners.delete(listener);
  }

  /** Serves rotations to a TLS server too (the web address's). */
  follow(server: { setSecureContext(options: object): void }): void {
    this.secureServers.add(server);
  }

  /** Starts looking for rotations: the files' modification times, and SIGHUP. */
  watch(): void {
    if (!this.watched.length) return;
    const interval = this.options.reloadIntervalMs ?? DEFAULT_TLS_RELOAD_INTERVAL_MS;
    for (const file of this.watched) fs.watchFile(file, { interval, persistent: false }, () => this.reload());
    process.on('SIGHUP', this.onSighup);
  }

  stop(): void {
    for (const file of this.watched) fs.unwatchFile(file);
    process.off('SIGHUP', this.onSighup);
  }

  /** Reads the files again and, when they pass the checks, serves them to new connections. */
  reload(): void {
    let material: TlsMaterial;
    try {
      material = readMaterial(this.options);
    } catch (error) {
      this.warn(`TLS certificates were not reloaded, the ones loaded before are still served: ${(error as Error).message}`);
      return;
    }
    const { cert, key, clientCa } = (this.material = material);
    for (const listener of this.identityListeners) listener({ certificate: cert, privateKey: key });
    for (const listener of this.caListeners) listener(clientCa ? { caCertificate: clientCa } : null);
    for (const server of this.secureServers) server.setSecureContext(clientCa ? { cert, key, ca: clientCa } : { cert, key });
  }
}

/** The PEM of each part, read from its file when given as a path; a key that does not match the certificate is refused. */
function readMaterial(options: TlsOptions): TlsMaterial {
  const cert = pem(options.cert, 'tls.cert (--tls-cert)', 'certificate');
  const key = pem(options.key, 'tls.key (--tls-key)', 'private key');
  const clientCa = options.clientCa === undefined ? undefined : pem(options.clientCa, 'tls.clientCa (--tls-client-ca)', 'CA certificate');
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(cert);
  } catch (error) {
    throw new ImproperlyConfiguredError(`${describe(options.cert, 'tls.cert')} is not a PEM certificate (${(error as Error).message}).`);
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch (error) {
    throw new ImproperlyConfiguredError(`${describe(options.key, 'tls.key')} is not a PEM private key (${(error as Error).message}).`);
  }
  if (!certificate.checkPrivateKey(privateKey)) {
    throw new ImproperlyConfiguredError(
      `the key in ${describe(options.key, 'tls.key')} does not match the certificate in ${describe(options.cert, 'tls.cert')}: give the key the certificate was issued for.`,
    );
  }
  if (clientCa) {
    try {
      new X509Certificate(clientCa);
    } catch (error) {
      throw new ImproperlyConfiguredError(
        `${describe(options.clientCa!, 'tls.clientCa')} is not a PEM CA certificate (${(error as Error).message}).`,
      );
    }
  }
  return { cert, key, ...(clientCa ? { clientCa } : {}) };
}

function pem(value: string | Buffer, option: string, what: string): Buffer {
  if (Buffer.isBuffer(value)) return value;
  try {
    return fs.readFileSync(value);
  } catch (error) {
    throw new ImproperlyConfiguredError(
      `${option}: cannot read the ${what} file ${value} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); give the path of a PEM file.`,
    );
  }
}

function describe(value: string | Buffer, option: string): string {
  return typeof value === 'string' ? value : `${option} (a buffer)`;
}
