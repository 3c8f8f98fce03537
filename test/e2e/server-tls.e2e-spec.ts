import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { MikroORM } from '@mikro-orm/core';
import { MikroOrmModule } from '@mikro-orm/nestjs';
import { INestApplicationContext, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import * as fs from 'node:fs';
import * as http2 from 'node:http2';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import {
  GenericService,
  GrpcFrameworkModule,
  GrpcFrameworkServer,
  GrpcModelService,
  ImproperlyConfiguredError,
  IsAuthenticated,
  MtlsAuthenticator,
  TlsOptions,
} from 'nestjs-grpc-framework';
import { Gadget, Maker, Tag } from '../fixtures/gadgets/gadget.entity';
import { GadgetNameSerializer } from '../fixtures/pipeline/pipeline-examples';
import { gadgetProtos } from '../utils/gadget-app';
import { testDatabase } from '../utils/test-database';

const TLS = path.join(__dirname, '..', 'fixtures', 'tls');
const file = (name: string) => path.join(TLS, name);
const pem = (name: string) => fs.readFileSync(file(name));
const PROTOS = gadgetProtos('gadget-reads.proto', 'gadget-sources.proto');

/** Answers with the caller's certificate name, on either address. */
@GrpcModelService({
  service: 'gadgets.GuardedController',
  serializer: GadgetNameSerializer,
  authenticators: [new MtlsAuthenticator({ user: (certificate) => ({ name: certificate.subject.CN }) })],
  permissions: [IsAuthenticated],
})
class WhoAmIService extends GenericService(Gadget) {
  async Retrieve() {
    return { id: 1, name: (this.user as { name: string }).name };
  }

  async *List() {}

  async Destroy() {
    return {};
  }
}

const db = testDatabase();
afterAll(() => db.dispose());

async function serve(tlsOptions: TlsOptions): Promise<INestApplicationContext> {
  @Module({
    imports: [
      MikroOrmModule.forRoot({ ...db.options, entities: [Gadget, Maker, Tag], registerRequestContext: false }),
      GrpcFrameworkModule.forRoot({ protoPath: PROTOS, url: '127.0.0.1:0', web: { url: '127.0.0.1:0' }, tls: tlsOptions }),
    ],
    controllers: [WhoAmIService],
  })
  class TlsModule {}
  const moduleRef = await Test.createTestingModule({ imports: [TlsModule] }).compile();
  moduleRef.useLogger(false);
  try {
    return await moduleRef.init();
  } catch (error) {
    // Nest's close() rethrows a failed init without running shutdown hooks: close the ORM here.
    await moduleRef.get(MikroORM).close();
    throw error;
  }
}

const Client = (() => {
  const definition = protoLoader.loadSync(PROTOS, { keepCase: true, defaults: true, includeDirs: [gadgetProtos('')[0]] });
  return (grpc.loadPackageDefinition(definition).gadgets as grpc.GrpcObject).GuardedController as typeof grpc.Client;
})();

/** Retrieve over gRPC with these client credentials. */
function retrieveOverGrpc(address: string, credentials: grpc.ChannelCredentials): Promise<Record<string, unknown>> {
  const client = new Client(address, credentials, { 'grpc.ssl_target_name_override': 'localhost' }) as grpc.Client &
    Record<string, Function>;
  return new Promise<Record<string, unknown>>((resolve, reject) =>
    client.Retrieve({ id: 1 }, { deadline: Date.now() + 5000 }, (e: grpc.ServiceError | null, r: Record<string, unknown>) =>
      e ? reject(e) : resolve(r),
    ),
  ).finally(() => client.close());
}

/** Retrieve over Connect (HTTP/2 + JSON) with these TLS client options. */
function retrieveOverConnect(address: string, options: tls.SecureContextOptions): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`https://${address}`, { ...options, servername: 'localhost' });
    session.on('error', (error) => {
      session.destroy();
      reject(error);
    });
    const stream = session.request({
      ':method': 'POST',
      ':path': '/gadgets.GuardedController/Retrieve',
      'content-type': 'application/json',
    });
    let text = '';
    let status = 0;
    stream.on('response', (headers) => (status = Number(headers[':status'])));
    stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
    stream.on('end', () => {
      session.close();
      resolve({ status, body: text ? JSON.parse(text) : undefined });
    });
    stream.on('error', reject);
    stream.end('{"id":1}');
  });
}

/** The organisation of the certificate a new TLS connection to `address` is served. */
function servedOrganisation(address: string): Promise<string | undefined> {
  const [host, port] = address.split(':');
  return new Promise((resolve, reject) => {
    const socket = tls.connect(
      {
        host,
        port: Number(port),
        ca: pem('ca.crt'),
        key: pem('client.key'),
        cert: pem('client.crt'),
        servername: 'localhost',
        ALPNProtocols: ['h2'],
      },
      () => {
        const organisation = socket.getPeerCertificate().subject.O;
        socket.destroy();
        resolve(Array.isArray(organisation) ? organisation[0] : organisation);
      },
    );
    socket.on('error', (error) => {
      socket.destroy();
      reject(error);
    });
  });
}

const within = <T>(promise: Promise<T>, ms: number): Promise<T> =>
  Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`not within ${ms} ms`)), ms))]);

describe('tls: { cert, key, clientCa } on both addresses', () => {
  let app: INestApplicationContext;
  let grpcAddress: string;
  let webAddress: string;
  beforeAll(async () => {
    app = await serve({ cert: file('server.crt'), key: file('server.key'), clientCa: file('ca.crt') });
    const server = app.get(GrpcFrameworkServer);
    grpcAddress = server.address;
    webAddress = server.webAddress!;
  });
  afterAll(() => app.close());

  it('serves mutual TLS on the gRPC address: the certificate is the caller; a client without one is refused at the handshake', async () => {
    await expect(
      retrieveOverGrpc(grpcAddress, grpc.credentials.createSsl(pem('ca.crt'), pem('client.key'), pem('client.crt'))),
    ).resolves.toEqual({
      id: 1,
      name: 'alice',
    });
    await expect(retrieveOverGrpc(grpcAddress, grpc.credentials.createSsl(pem('ca.crt')))).rejects.toMatchObject({
      code: grpc.status.UNAVAILABLE,
    });
  });

  it('serves the same on the web address: MtlsAuthenticator reads the certificate of a Connect call', async () => {
    await expect(retrieveOverConnect(webAddress, { ca: pem('ca.crt'), key: pem('client.key'), cert: pem('client.crt') })).resolves.toEqual({
      status: 200,
      body: { id: 1, name: 'alice' },
    });
    await expect(retrieveOverConnect(webAddress, { ca: pem('ca.crt') })).rejects.toThrow();
  });
});

describe('certificate rotation', () => {
  it('serves a replaced certificate to new connections on both addresses, without a restart', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tls-rotation-'));
    fs.copyFileSync(file('server.crt'), path.join(dir, 'server.crt'));
    fs.copyFileSync(file('server.key'), path.join(dir, 'server.key'));
    const app = await serve({
      cert: path.join(dir, 'server.crt'),
      key: path.join(dir, 'server.key'),
      clientCa: file('ca.crt'),
      reloadIntervalMs: 100,
    });
    try {
      const server = app.get(GrpcFrameworkServer);
      expect(await servedOrganisation(server.address)).toBeUndefined();
      expect(await servedOrganisation(server.webAddress!)).toBeUndefined();
      // A key that does not match the new certificate yet (written first): refused, the old pair stays.
      fs.copyFileSync(file('rotated.crt'), path.join(dir, 'server.crt'));
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(await servedOrganisation(server.address)).toBeUndefined();
      fs.copyFileSync(file('rotated.key'), path.join(dir, 'server.key'));
      await within(
        (async () => {
          while ((await servedOrganisation(server.address)) !== 'rotated') await new Promise((resolve) => setTimeout(resolve, 100));
        })(),
        5000,
      );
      expect(await servedOrganisation(server.webAddress!)).toBe('rotated');
      await expect(
        retrieveOverGrpc(server.address, grpc.credentials.createSsl(pem('ca.crt'), pem('client.key'), pem('client.crt'))),
      ).resolves.toEqual({
        id: 1,
        name: 'alice',
      });
    } finally {
      await app.close();
      fs.rmSync(dir, { recursive: true });
    }
  });
});

describe('TLS options that cannot work', () => {
  const startupError = (options: TlsOptions) =>
    serve(options).then(
      async (app) => {
        await app.close();
        return undefined;
      },
      (error: unknown) => error,
    );

  it("names a missing file, a key that is not the certificate's, and a file that is no certificate", async () => {
    const missing = await startupError({ cert: file('nope.crt'), key: file('server.key') });
    expect(missing).toBeInstanceOf(ImproperlyConfiguredError);
    expect((missing as Error).message).toBe(
      `tls.cert (--tls-cert): cannot read the certificate file ${file('nope.crt')} (ENOENT); give the path of a PEM file.`,
    );
    const mismatched = (await startupError({ cert: file('server.crt'), key: file('client.key') })) as Error;
    expect(mismatched.message).toBe(
      `the key in ${file('client.key')} does not match the certificate in ${file('server.crt')}: give the key the certificate was issued for.`,
    );
    const notACertificate = (await startupError({ cert: file('server.key'), key: file('server.key') })) as Error;
    expect(notACertificate.message).toContain(`${file('server.key')} is not a PEM certificate`);
  });
});
