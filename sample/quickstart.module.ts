import { BetterSqliteDriver } from '@mikro-orm/better-sqlite';
import { MikroOrmModule } from '@mikro-orm/nestjs';
import { Module } from '@nestjs/common';
import { GrpcFrameworkModule } from 'nestjs-grpc-framework';
import { AccountModule } from './account/account.module';
import { SchemaSetup } from './schema-setup';

@Module({
  imports: [
    MikroOrmModule.forRoot({
      driver: BetterSqliteDriver,
      dbName: 'quickstart.sqlite3',
      autoLoadEntities: true,
    }),
    GrpcFrameworkModule.forRoot({ protoPath: ['sample/protos/account.proto'], url: '127.0.0.1:50051' }),
    AccountModule,
  ],
  providers: [SchemaSetup], // creates the tables on start
})
export class QuickstartAppModule {}
