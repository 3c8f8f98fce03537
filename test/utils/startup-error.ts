import { MikroORM } from '@mikro-orm/core';
import type { TestingModule } from '@nestjs/testing';

/**
 * Starts a compiled module that should fail to start: resolves with its error, or undefined
 * when it started (it is closed again). Nest's close() rethrows a failed init without running
 * shutdown hooks, so the ORM is closed here.
 */
export async function startupErrorOf(moduleRef: TestingModule): Promise<unknown> {
  moduleRef.useLogger(false);
  const error = await moduleRef.init().then(
    () => undefined,
    (e: unknown) => e,
  );
  if (error) await moduleRef.get(MikroORM).close();
  else await moduleRef.close();
  return error;
}
