import type { ArgumentsHost } from '@nestjs/common';
import { isObservable, lastValueFrom } from 'rxjs';
import { GrpcError } from '../errors/grpc-error';
import type { CallContext } from '../call/call-context';
import type { ExceptionFiltersOfHandler } from './nest-internals';

/** What Nest's `BaseRpcExceptionFilter` answers for an error it does not know: the framework's own mapping then applies. */
const UNKNOWN_ERROR_MESSAGE = 'Internal server error';

/**
 * Runs a handler's Nest exception filters on an error it threw: the first filter whose
 * `@Catch()` matches decides. What it throws, or the error its Observable ends with, is the
 * call's error (mapped to a status as a handler's would be); what it returns (a value, a
 * promise, an Observable's last value) answers the call instead. Without a matching filter
 * the error is rethrown as it was.
 */
export async function afterFilters(
  filters: ExceptionFiltersOfHandler,
  error: unknown,
  request: unknown,
  context: CallContext,
  handler: Function,
  owner: Function,
  args: readonly unknown[] = [request, context],
): Promise<unknown> {
  let result: unknown;
  try {
    result = filters.invokeCustomFilters(error, rpcArgumentsHost(args, handler, owner));
    if (result === null) throw error;
    return isObservable(result) ? await lastValueFrom(result, { defaultValue: undefined }) : await result;
  } catch (raised) {
    throw raised === error ? error : filterError(raised, error);
  }
}

/**
 * The error a filter raised, as the framework maps it. Nest's RPC filters end with plain
 * objects: `{ code, message }` (an `RpcException`'s payload) chooses the status, as Nest's own
 * gRPC transport reads it; `BaseRpcExceptionFilter`'s answer to an error it does not know
 * leaves the original error to the framework's mapping.
 */
function filterError(raised: unknown, original: unknown): unknown {
  if (raised instanceof Error || raised === null || typeof raised !== 'object') return raised;
  const { code, message, details } = raised as { code?: unknown; message?: unknown; details?: unknown };
  const text = typeof details === 'string' ? details : typeof message === 'string' ? message : '';
  if (typeof code === 'number' && Number.isInteger(code) && code >= 1 && code <= 16) return new GrpcError(code, text);
  if (text === UNKNOWN_ERROR_MESSAGE) return original;
  return raised;
}

/**
 * The `ArgumentsHost` a filter receives: the handler's arguments, as its guards see them (on a
 * framework call the request and the call's context; on a `@GrpcMethod` the request, the
 * metadata and the call).
 */
export function rpcArgumentsHost(
  args: readonly unknown[],
  handler: Function,
  owner: Function,
): ArgumentsHost & { getHandler(): Function; getClass(): Function } {
  const rpc = { getData: <T>() => args[0] as T, getContext: <T>() => args[1] as T };
  const wrong = (type: string) => () => {
    throw new Error(`This is a gRPC call: use host.switchToRpc(), not switchTo${type}().`);
  };
  return {
    getArgs: <T extends unknown[]>() => args as T,
    getArgByIndex: <T>(index: number) => args[index] as T,
    switchToRpc: () => rpc,
    switchToHttp: wrong('Http') as ArgumentsHost['switchToHttp'],
    switchToWs: wrong('Ws') as ArgumentsHost['switchToWs'],
    getType: <T extends string>() => 'rpc' as T,
    getHandler: () => handler,
    getClass: () => owner,
  };
}
