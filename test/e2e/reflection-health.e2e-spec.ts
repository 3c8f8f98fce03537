import * as grpc from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { Module } from '@nestjs/common';
import { GrpcFrameworkModule } from 'nestjs-grpc-framework';
import * as descriptor from 'protobufjs/ext/descriptor';
import { ECHO_PROTO, EchoService } from '../fixtures/echo.app';
import { GrpcClient, RunningSample, startSample, unary } from '../utils/sample-app';
import { startApp } from '../utils/start-app';
import { create, createFileRegistry, fromBinary, toBinary } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { dependenciesFirst, filesFromReflection, loaded, reflect } from '../utils/reflection-client';

describe('server reflection and health checking (on by default)', () => {
  let sample: RunningSample;
  const clients: grpc.Client[] = [];
  const make = (ctor: typeof grpc.Client) => {
    const client = new ctor(sample.address, grpc.credentials.createInsecure()) as GrpcClient;
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    sample = await startSample();
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    await sample?.close();
  });

  it.each(['v1', 'v1alpha'] as const)('lists the services and serves file descriptors (%s)', async (version) => {
    const reflection = make(loaded.grpc.reflection[version].ServerReflection);
    const list = await reflect(reflection, { list_services: '' });
    const names = list.list_services_response!.service.map((s) => s.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'account.UserController',
        'blog_proto.PostController',
        'hrm.PersonController',
        'snippets.SnippetController',
        'grpc.health.v1.Health',
      ]),
    );
    const files = await reflect(reflection, { file_containing_symbol: 'blog_proto.PostController' });
    const decoded = files.file_descriptor_response!.file_descriptor_proto.map((bytes) =>
      descriptor.FileDescriptorProto.decode(bytes),
    ) as unknown as { package: string; service: { name: string; method: { name: string }[] }[] }[];
    const blog = decoded.find((file) => file.package === 'blog_proto')!;
    expect(blog.service[0].name).toBe('PostController');
    expect(blog.service[0].method.map((m) => m.name)).toEqual(['List', 'Create', 'Retrieve', 'Update', 'Destroy']);
  });

  it('serves complete descriptors: a strict client builds every sample service from reflection alone and calls it', async () => {
    const files = await filesFromReflection(sample.address, 'v1');
    expect(files.get('blog_proto/post.proto')!.dependency).toEqual(['google/protobuf/empty.proto']);
    expect(files.get('hrm.proto')!.dependency).toEqual(['google/protobuf/empty.proto', 'google/protobuf/wrappers.proto']);
    expect(files.get('snippets.proto')!.dependency).toEqual(['google/protobuf/empty.proto', 'google/protobuf/struct.proto']);
    // The validating pool refuses a file whose dependencies or types are missing.
    const pool = createFileRegistry(create(FileDescriptorSetSchema, { file: dependenciesFirst(files) }));
    const call = (service: string, method: string, request: object): Promise<unknown> => {
      const rpc = pool.getService(service)!.methods.find((m) => m.name === method)!;
      const client = make(grpc.makeGenericClientConstructor({}, service) as unknown as typeof grpc.Client);
      return new Promise((resolve, reject) =>
        client.makeUnaryRequest(
          `/${service}/${method}`,
          (message: object) => Buffer.from(toBinary(rpc.input, create(rpc.input, message as never))),
          (bytes: Buffer) => fromBinary(rpc.output, bytes),
          request,
          (error: grpc.ServiceError | null, response: unknown) => (error ? reject(error) : resolve(response)),
        ),
      );
    };
    await expect(call('account.UserController', 'Create', { username: 'reflected' })).resolves.toMatchObject({ username: 'reflected' });
    const post = (await call('blog_proto.PostController', 'Create', { title: 't', content: 'c' })) as { id: number };
    await expect(call('blog_proto.PostController', 'Retrieve', { id: post.id })).resolves.toMatchObject({ title: 't' });
    const person = (await call('hrm.PersonController', 'Create', { name: 'amy', email: 'amy@demo.com' })) as { id: number };
    await expect(call('hrm.PersonController', 'PartialUpdate', { id: person.id, name: 'amelia' })).resolves.toMatchObject({
      name: 'amelia',
    });
    await expect(
      call('snippets.SnippetController', 'Create', { title: 's', language: { kind: { case: 'null', value: 0 } } }),
    ).resolves.toMatchObject({ title: 's', language: { kind: { case: 'null' } } });
    await expect(call('grpc.health.v1.Health', 'Check', { service: '' })).resolves.toMatchObject({ status: 1 });
  });

  it('answers Check per service and NOT_FOUND for unknown ones', async () => {
    const health = make(loaded.grpc.health.v1.Health);
    await expect(unary(health, 'Check', { service: '' })).resolves.toEqual({ status: 'SERVING' });
    await expect(unary(health, 'Check', { service: 'blog_proto.PostController' })).resolves.toEqual({ status: 'SERVING' });
    await expect(unary(health, 'Check', { service: 'nope.Nope' })).rejects.toMatchObject({ code: status.NOT_FOUND });
  });

  it('reports NOT_SERVING to watchers when the server shuts down', async () => {
    expect.assertions(1);
    const health = make(loaded.grpc.health.v1.Health);
    const watch: grpc.ClientReadableStream<{ status: string }> = health.Watch({ service: 'account.UserController' });
    const seen: string[] = [];
    watch.on('error', () => undefined);
    await new Promise<void>((resolve) => {
      watch.on('data', ({ status: s }) => {
        seen.push(s);
        if (s === 'SERVING') void sample.close().then(() => undefined);
        if (s === 'NOT_SERVING') {
          watch.cancel();
          resolve();
        }
      });
    });
    expect(seen).toEqual(['SERVING', 'NOT_SERVING']);
    sample = undefined as unknown as RunningSample;
  });
});

describe('reflection and health switched off', () => {
  @Module({
    imports: [GrpcFrameworkModule.forRoot({ protoPath: ECHO_PROTO, url: '127.0.0.1:0', reflection: false, health: false })],
    controllers: [EchoService],
  })
  class PlainModule {}

  it('answers UNIMPLEMENTED for both', async () => {
    const running = await startApp(PlainModule, ECHO_PROTO);
    try {
      const health = new loaded.grpc.health.v1.Health(running.address, grpc.credentials.createInsecure()) as GrpcClient;
      await expect(unary(health, 'Check', { service: '' })).rejects.toMatchObject({ code: status.UNIMPLEMENTED });
      health.close();
      const reflection = new loaded.grpc.reflection.v1.ServerReflection(running.address, grpc.credentials.createInsecure()) as GrpcClient;
      await expect(reflect(reflection, { list_services: '' })).rejects.toMatchObject({ code: status.UNIMPLEMENTED });
      reflection.close();
    } finally {
      await running.close();
    }
  });
});

describe('health and reflection under the framework decoding', () => {
  let sample: RunningSample;
  beforeAll(async () => {
    sample = await startSample();
  });
  afterAll(() => sample.close());

  const raw = (method: string, bytes: Buffer, requestStream = false): Promise<grpc.ServiceError | Buffer> => {
    const client = new grpc.Client(sample.address, grpc.credentials.createInsecure());
    const done = (resolve: (value: grpc.ServiceError | Buffer) => void) => (error: grpc.ServiceError | null, reply?: Buffer) => {
      client.close();
      resolve(error ?? reply!);
    };
    return new Promise((resolve) => {
      if (!requestStream) {
        client.makeUnaryRequest(
          method,
          (b: Buffer) => b,
          (b: Buffer) => b,
          bytes,
          { deadline: Date.now() + 5000 },
          done(resolve),
        );
        return;
      }
      const call = client.makeBidiStreamRequest(
        method,
        (b: Buffer) => b,
        (b: Buffer) => b,
        { deadline: Date.now() + 5000 },
      );
      call.on('data', (reply: Buffer) => done(resolve)(null, reply));
      call.on('error', (error: grpc.ServiceError) => done(resolve)(error));
      call.write(bytes);
    });
  };

  it.each([
    ['a truncated string', '0a05616263'],
    ['field number 0', '0001'],
    ['wire type 7', '0f00'],
    ['invalid UTF-8', '0a02c328'],
    ['an unmatched end-group tag', '0c'],
  ])('answers INVALID_ARGUMENT to %s, for Health/Check and ServerReflectionInfo', async (_name, bytes) => {
    const check = await raw('/grpc.health.v1.Health/Check', Buffer.from(bytes, 'hex'));
    expect(check).toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringContaining('not a valid grpc.health.v1.HealthCheckRequest'),
    });
    const reflection = await raw('/grpc.reflection.v1.ServerReflection/ServerReflectionInfo', Buffer.from(bytes, 'hex'), true);
    expect(reflection).toMatchObject({ code: status.INVALID_ARGUMENT });
  });

  it('refuses a huge service name at once, and keeps answering on the connection', async () => {
    const name = Buffer.alloc(3 * 1024 * 1024, 0x61);
    const request = Buffer.concat([Buffer.from([0x0a, 0x80, 0x80, 0xc0, 0x01]), name]);
    const started = Date.now();
    await expect(raw('/grpc.health.v1.Health/Check', request)).resolves.toMatchObject({ code: status.RESOURCE_EXHAUSTED });
    const health = new loaded.grpc.health.v1.Health(sample.address, grpc.credentials.createInsecure()) as GrpcClient;
    await expect(unary(health, 'Check', { service: 'x'.repeat(10_000) })).rejects.toMatchObject({ code: status.NOT_FOUND });
    await expect(unary(health, 'Check', { service: '' })).resolves.toEqual({ status: 'SERVING' });
    health.close();
    expect(Date.now() - started).toBeLessThan(3000);
  });
});
