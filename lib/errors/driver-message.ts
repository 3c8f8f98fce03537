import { DriverException } from '@mikro-orm/core';

/**
 * What the database said, without the statement it said it about. A MikroORM driver error's
 * message is `<sql> - <driver message>` (knex puts the failed statement first, and MikroORM
 * has written the request's values into its text), so the SQL must be neither logged nor
 * matched against: a value could look like anything. Values may hold ' - '; the driver's own
 * message rarely does, so the last one ends the SQL. Other errors' messages are returned whole.
 */
export function driverMessageOf(error: Error): string {
  if (!(error instanceof DriverException)) return error.message;
  // Without ' - ' no statement was run (a failed connection): the message is the driver's own.
  const cut = error.message.lastIndexOf(' - ');
  return cut >= 0 ? error.message.slice(cut + 3) : error.message;
}
