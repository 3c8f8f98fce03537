import { create, createFileRegistry } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import * as grpc from '@grpc/grpc-js';
import { GrpcTestingApp } from 'nestjs-grpc-framework/testing';
import { ShelfAppModule } from '../fixtures/shelf.app';
import { dependenciesFirst, filesFromReflection } from '../utils/reflection-client';
import { unary } from '../utils/sample-app';
import { startApp } from '../utils/start-app';

// One rule finds proto files and imports for serving, reflection and the testing toolkit:
// shelf.proto imports `test/fixtures/protos/common/paging.proto`, relative to the working directory.
describe('a proto whose import is relative to the working directory', () => {
  const since = new Date('2024-05-06T07:08:09.123Z');

  it('is served over a socket and described completely by reflection', async () => {
    const running = await startApp(ShelfAppModule);
    try {
      const shelves = running.client('library.ShelfService');
      await expect(unary(shelves, 'Open', { size: 3, since })).resolves.toEqual({
        page: { size: 3 },
        opened: since,
        sections: { first: { size: 1 } },
        note: `since ${since.toISOString()}`,
      });

      const files = await filesFromReflection(running.address);
      expect([...files.keys()].sort()).toEqual([
        'google/protobuf/timestamp.proto',
        'grpc/health/v1/health.proto',
        'grpc/reflection/v1/reflection.proto',
        'grpc/reflection/v1alpha/reflection.proto',
        'test/fixtures/protos/common/paging.proto',
        'test/fixtures/protos/library/shelf.proto',
      ]);
      expect(files.get('test/fixtures/protos/library/shelf.proto')!.dependency).toEqual([
        'google/protobuf/timestamp.proto',
        'test/fixtures/protos/common/paging.proto',
      ]);
      // A validating descriptor pool accepts what reflection served, and nothing else was needed.
      const pool = createFileRegistry(create(FileDescriptorSetSchema, { file: dependenciesFirst(files) }));
      const shelf = pool.getMessage('library.Shelf')!;
      expect(shelf.fields.map((f) => [f.name, f.fieldKind])).toEqual([
        ['page', 'message'],
        ['opened', 'message'],
        ['sections', 'map'],
        ['note', 'scalar'],
      ]);
      expect(shelf.fields[3].proto.proto3Optional).toBe(true);
      expect(pool.getService('library.ShelfService')!.methods[0].input.typeName).toBe('common.PageRequest');
    } finally {
      await running.close();
    }
  });

  describe('called through the testing toolkit', () => {
    let app: GrpcTestingApp;
    beforeAll(async () => {
      app = await GrpcTestingApp.create({ imports: [ShelfAppModule] });
    });
    afterAll(() => app.close());

    it('takes a Date or an RFC 3339 string for a Timestamp, as handlers see it', async () => {
      const shelves = app.client('library.ShelfService');
      await expect(shelves.Open({ size: 1, since })).resolves.toMatchObject({ opened: since });
      await expect(shelves.Open({ size: 1, since: since.toISOString() })).resolves.toMatchObject({ opened: since });
      await expect(shelves.Open({ size: 1 })).resolves.toEqual({ page: { size: 1 }, sections: { first: { size: 1 } } });
    });

    it('refuses a value that is no timestamp instead of sending 1970-01-01', async () => {
      const shelves = app.client('library.ShelfService');
      for (const bad of ['yesterday', new Date(Number.NaN), true]) {
        const error = await shelves.Open({ size: 1, since: bad }).catch((e: grpc.ServiceError) => e);
        expect(error).toBeInstanceOf(Error);
        expect((error as grpc.ServiceError).details).toMatch(/is not a google\.protobuf\.Timestamp/);
      }
    });
  });
});
