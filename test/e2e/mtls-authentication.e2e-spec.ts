import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { MikroOrmModule } from '@mikro-orm/nestjs';
import { INestApplicationContext, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { GenericService, GrpcFrameworkModule, GrpcModelService, IsAuthenticated, MtlsAuthenticator } from 'nestjs-grpc-framework';
import { GrpcFrameworkServer } from '../../lib/module/grpc-framework.server';
import { Gadget, Maker, Tag } from '../fixtures/gadgets/gadget.entity';
import { GadgetNameSerializer } from '../fixtures/pipeline/pipeline-examples';
import { gadgetProtos } from '../utils/gadget-app';
import { testDatabase } from '../utils/test-database';

const TLS = path.join(__dirname, '..', 'fixtures', 'tls');
const pem = (file: string) => fs.readFileSync(path.join(TLS, file));
const PROTOS = gadgetProtos('gadget-reads.proto', 'gadget-sources.proto');

/** Answers with the caller's certificate name: the user the authenticator made of it. */
@GrpcModelService({
  service: 'gadgets.GuardedController',
  serializer: GadgetNameSerializer,
  authenticators: [
    new MtlsAuthenticator({ user: (certificate) => ({ name: certificate.subject.CN, organisation: certificate.subject.O }) }),
  ],
  permissions: [IsAuthenticated],
})
class WhoAmIService extends GenericService(Gadget) {
  async Retrieve() {
    const user = this.user as { name: string; organisation: string };
    return { id: 1, name: `${user.name} (${user.organisation})` };
  }

  async *List() {}

  async Destroy() {
    return {};
  }
}

describe('mutual TLS: the client certificate is the caller', () => {
  let app: INestApplicationContext;
  let address: string;
  const db = testDatabase();
  const Client = (() => {
    const definition = protoLoader.loadSync(PROTOS, { keepCase: true, defaults: true, includeDirs: [gadgetProtos('')[0]] });
    return (grpc.loadPackageDefinition(definition).gadgets as grpc.GrpcObject).GuardedController as typeof grpc.Client;
  })();
  const options = { 'grpc.ssl_target_name_override': 'localhost' };
  const retrieve = (client: grpc.Client) =>
    new Promise<Record<string, unknown>>((resolve, reject) =>
      (client as grpc.Client & Record<string, Function>).Retrieve(
        { id: 1 },
        { deadline: Date.now() + 5000 },
        (e: grpc.ServiceError | null, r: Record<string, unknown>) => (e ? reject(e) : resolve(r)),
      ),
    );

  beforeAll(async () => {
    // checkClientCertificate (the last argument): TLS refuses clients without a certificate signed by the CA.
    const credentials = grpc.ServerCredentials.createSsl(
      pem('ca.crt'),
      [{ private_key: pem('server.key'), cert_chain: pem('server.crt') }],
      true,
    );
    @Module({
      imports: [
        MikroOrmModule.forRoot({ ...db.options, entities: [Gadget, Maker, Tag], registerRequestContext: false }),
        GrpcFrameworkModule.forRoot({ protoPath: PROTOS, url: '127.0.0.1:0', credentials }),
      ],
      controllers: [WhoAmIService],
    })
    class TlsModule {}
    const moduleRef = await Test.createTestingModule({ imports: [TlsModule] }).compile();
    moduleRef.useLogger(false);
    app = await moduleRef.init();
    address = `127.0.0.1:${app.get(GrpcFrameworkServer).port}`;
  });
  afterAll(async () => {
    await app.close();
    await db.dispose();
  });

  it('makes the user of a client certificate signed by the CA', async () => {
    const client = new Client(address, grpc.credentials.createSsl(pem('ca.crt'), pem('client.key'), pem('client.crt')), options);
    try {
      await expect(retrieve(client)).resolves.toEqual({ id: 1, name: 'alice (gadget makers)' });
    } finally {
      client.close();
    }
  });

  it('never lets a client without a certificate reach the service', async () => {
    const client = new Client(address, grpc.credentials.createSsl(pem('ca.crt')), options);
    try {
      await expect(retrieve(client)).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    } finally {
      client.close();
    }
  });
});
