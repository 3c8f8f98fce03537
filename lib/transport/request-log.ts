import { status } from '@grpc/grpc-js';
import { Logger, LogLevel } from '@nestjs/common';
import type { CallContext } from '../call/call-context';
import type { RequestLogOptions } from '../interfaces/grpc-framework-options.interface';

/** What one request log line holds: never a message body or a credential. */
export interface RequestLogLine {
  /** The method path, e.g. `/bookstore.BookController/Retrieve`. */
  rpc: string;
  /** The status name, e.g. `OK`, `NOT_FOUND`. */
  code: string;
  /** From the call's arrival to its status, in milliseconds. */
  ms: number;
  peer: string;
  /** The authenticated caller's id (see `RequestLogOptions.caller`); absent for an anonymous call. */
  caller?: string;
  /** The call's `x-request-id` metadata, when it sent one. */
  requestId?: string;
}

const STATUS_NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(status)
    .filter(([, value]) => typeof value === 'number')
    .map(([name, value]) => [value, name]),
);

/** The longest request id logged: a client's text, bounded. */
const MAX_REQUEST_ID = 128;

/**
 * One structured line per call, when it ends, through Nest's logger (so a pino or winston
 * logger the application installs receives it as an object): method, status, duration, peer,
 * caller and request id. Made once per server from the `requestLogs` option.
 */
export class RequestLog {
  private readonly logger = new Logger('GrpcRequest');
  private readonly level: Exclude<LogLevel, 'fatal'>;
  private readonly caller: (user: unknown) => string | undefined;

  constructor(options: RequestLogOptions) {
    this.level = options.level ?? 'log';
    this.caller = options.caller ?? defaultCaller;
  }

  /** Logs a call that arrived at `startedAt` (`performance.now()`) and ended with `code`. */
  record(context: CallContext, code: number, startedAt: number): void {
    const metadataId = context.metadata.get('x-request-id')[0];
    const user = context.user;
    const caller = user === null || user === undefined ? undefined : this.caller(user);
    const line: RequestLogLine = {
      rpc: context.call.getPath(),
      code: STATUS_NAMES[code] ?? String(code),
      ms: Math.round((performance.now() - startedAt) * 10) / 10,
      peer: context.peer,
      ...(caller === undefined ? {} : { caller }),
      ...(typeof metadataId === 'string' && metadataId ? { requestId: metadataId.slice(0, MAX_REQUEST_ID) } : {}),
    };
    this.logger[this.level](line);
  }
}

/** The id of a caller: its `id`, `sub` or `name`, as authenticators commonly make users. */
function defaultCaller(user: unknown): string | undefined {
  if (typeof user !== 'object' || user === null) return typeof user === 'string' ? user : undefined;
  const { id, sub, name } = user as { id?: unknown; sub?: unknown; name?: unknown };
  const found = id ?? sub ?? name;
  return found === undefined || found === null ? undefined : String(found);
}
