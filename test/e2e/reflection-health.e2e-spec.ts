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
    await expect(call('hrm.PersonController', 'PartialUpdate', { id: person.id, name: 'amelia' })).resolves.toMatchObject({ name: 'amelia' });
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
