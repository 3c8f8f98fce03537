import { MikroORM } from '@mikro-orm/core';
import { Injectable, OnModuleInit } from '@nestjs/common';

/**
 * Creates the sample's missing tables and columns on start, so `npm run sample` needs no
 * set-up. It only adds: a table or column MikroORM does not know (an entity not registered,
 * a column from elsewhere) is left as it is, never dropped. Several worker processes
 * (`runserver --workers N`) may race to create the same tables: the loser looks again and
 * finds nothing left to do. `grpc-framework check` does not run it. (A real application runs
 * its migrations once, before starting the server.)
 */
@Injectable()
export class SchemaSetup implements OnModuleInit {
  constructor(private readonly orm: MikroORM) {}

  async onModuleInit(): Promise<void> {
    const generator = this.orm.getSchemaGenerator();
    for (let attempt = 1; ; attempt++) {
      try {
        await generator.updateSchema({ safe: true, dropTables: false });
        return;
      } catch (error) {
        if (attempt >= 5) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      }
    }
  }
}
