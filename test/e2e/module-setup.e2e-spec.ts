import { status } from '@grpc/grpc-js';
import { MikroORM } from '@mikro-orm/core';
import { MikroOrmModule } from '@mikro-orm/nestjs';
import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { GRPC_FRAMEWORK_OPTIONS, GrpcFrameworkModule, GrpcFrameworkServer } from 'nestjs-grpc-framework';
import { SHELF_PROTO, ShelfAppModule } from '../fixtures/shelf.app';
import { RacingUserService } from '../fixtures/racing-user.service';
import { User } from '../../sample/account/user.entity';
import { Group } from '../../sample/account/group.entity';
import { SAMPLE_PROTOS } from '../../sample/app.module';
import { sampleDatabaseOptions } from '../../sample/database';
import { badRequestOf, failureOf } from '../utils/status-details';
import { makeClient, unary } from '../utils/sample-app';

@Injectable()
class GrpcConfig {
  readonly url = '127.0.0.1:0';
}

@Module({ providers: [GrpcConfig], exports: [GrpcConfig] })
class ConfigModule {}

@Module({
  imports: [
    MikroOrmModule.forRoot({ ...sampleDatabaseOptions(':memory:'), registerRequestContext: false }),
    MikroOrmModule.forFeature([User, Group]),
    GrpcFrameworkModule.forRootAsync({
      imports: [ConfigModule],
      inject: [GrpcConfig],
      useFactory: (config: GrpcConfig) => ({ protoPath: SAMPLE_PROTOS.slice(0, 1), url: config.url }),
    }),
  ],
  controllers: [RacingUserService],
})
class AsyncAppModule {}

describe('GrpcFrameworkModule.forRootAsync and the database unique index', () => {
  it('builds options from providers, and maps unique and foreign-key violations caught by the database to the field', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [AsyncAppModule] }).compile();
    moduleRef.useLogger(false);
    const app = await moduleRef.init();
    try {
      const orm = app.get(MikroORM);
      await orm.getSchemaGenerator().createSchema();
      const users = makeClient(`127.0.0.1:${app.get(GrpcFrameworkServer).port}`, 'account.UserController');
      await unary(users, 'Create', { username: 'twin' });
      const error = await failureOf(unary(users, 'Create', { username: 'twin', email: 'b@b.co' }));
      expect(error.code).toBe(status.ALREADY_EXISTS);
      expect(error.details).toBe('username: User with this username already exists.');
      expect(error.details).not.toMatch(/constraint|account_user|insert/i);
      expect(badRequestOf(error).violations).toEqual([
        { field: 'username', description: 'User with this username already exists.', reason: 'UNIQUE' },
      ]);
      expect(await orm.em.fork().count(User, {})).toBe(1);

      // A foreign key refusing a missing group names the field, as validation does.
      const fk = await failureOf(unary(users, 'Create', { username: 'grouped', groups: [4242] }));
      expect(fk.code).toBe(status.INVALID_ARGUMENT);
      expect(fk.details).toBe('groups: Invalid pk "4242" - object does not exist.');
      expect(fk.details).not.toMatch(/constraint|foreign|insert/i);
      expect(await orm.em.fork().count(User, {})).toBe(1);
      users.close();
    } finally {
      await app.close();
    }
  });
});

describe('an address already in use', () => {
  it('is refused with the option to change', async () => {
    const first = await Test.createTestingModule({ imports: [ShelfAppModule] }).compile();
    first.useLogger(false);
    const running = await first.init();
    const taken = `127.0.0.1:${running.get(GrpcFrameworkServer).port}`;
    try {
      const second = await Test.createTestingModule({ imports: [ShelfAppModule] })
        .overrideProvider(GRPC_FRAMEWORK_OPTIONS)
        .useValue({ protoPath: SHELF_PROTO, url: taken })
        .compile();
      second.useLogger(false);
      // grpc-js logs the failed bind itself; it is expected here.
      const grpcLog = jest.spyOn(console, 'error').mockImplementation(() => undefined);
      const error = (await second.init().catch((e: Error) => e)) as Error;
      expect(grpcLog).toHaveBeenCalledWith(expect.stringContaining('No address added out of total 1 resolved'));
      grpcLog.mockRestore();
      expect(error.message).toContain(`GrpcFrameworkModule could not listen on ${taken}`);
      expect(error.message).toContain('with the `url` option of GrpcFrameworkModule.forRoot() or `grpc-framework runserver <host:port>`');
    } finally {
      await running.close();
    }
  });
});
