import { MikroORM } from '@mikro-orm/core';
import { Injectable, OnModuleInit } from '@nestjs/common';

/** Creates or updates the sample's tables on start, so `npm run sample` needs no set-up. */
@Injectable()
export class SchemaSetup implements OnModuleInit {
  constructor(private readonly orm: MikroORM) {}

  async onModuleInit(): Promise<void> {
    await this.orm.getSchemaGenerator().updateSchema();
  }
}
