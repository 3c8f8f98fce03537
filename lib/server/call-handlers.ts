import {
  Metadata,
  ServerUnaryCall,
  ServerWritableStream,
  ServiceError,
  status,
  StatusObject,
  sendUnaryData,
  handleServerStreamingCall,
  handleUnaryCall,
} from '@grpc/grpc-js';
import type { EntityManager } from '@mikro-orm/core';
import { Logger } from '@nestjs/common';
import { INTERNAL_ERROR_MESSAGE } from '../constants';
import { toGrpcStatus } from '../errors/to-grpc-status';
import { MalformedMessageError } from '../proto/strict-reader';
import { CallContext } from './call-context';
import type { BoundRpc } from './service-binding';

const logger = new Logger('GrpcFramework');

type Status = Partial<StatusObject> & { code: status; details: string };

/** What the grpc-js handlers need besides the bound rpc (shared, so tests can swap the EntityManager factory). */
export interface HandlerEnvironment {
  forkEntityManager?: () => EntityManager;
}

/** A handler as grpc-js calls it, tagged with its kind. */
export type InProcessHandler =
  | { responseStream: false; handler: handleUnaryCall<Buffer, Buffer> }
  | { responseStream: true; handler: handleServerStreamingCall<Buffer, Buffer> };

export function unaryHandler(bound: BoundRpc, env: HandlerEnvironment): handleUnaryCall<Buffer, Buffer> {
  const { rpc } = bound;
  return (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
    const request = decodeRequest(bound, call.request);
    if (request instanceof Error) {
      callback(serviceError(malformed(bound, request)));
      return;
    }
    const context = new CallContext(call, rpc.name, bound.service, env.forkEntityManager);
    bound.invoke(request, context).then(
      (response) => {
        let bytes: Buffer;
        try {
          bytes = rpc.response.encode(response);
        } catch (error) {
          logger.error(`${rpc.path}: the response could not be encoded as ${rpc.response.type.fullName.slice(1)}`, stackOf(error));
          callback(serviceError({ code: status.INTERNAL, details: INTERNAL_ERROR_MESSAGE }));
          return;
        }
        callback(null, bytes);
      },
      (error: unknown) => callback(serviceError(statusFor(bound, error))),
    );
  };
}

export function serverStreamingHandler(bound: BoundRpc, env: HandlerEnvironment): handleServerStreamingCall<Buffer, Buffer> {
  const { rpc } = bound;
  return (call: ServerWritableStream<Buffer, Buffer>) => {
    const request = decodeRequest(bound, call.request);
    if (request instanceof Error) {
      call.emit('error', serviceError(malformed(bound, request)));
      return;
    }
    const context = new CallContext(call, rpc.name, bound.service, env.forkEntityManager);
    streamResponses(bound, call, request, context).catch((error: unknown) => {
      if (!call.cancelled) call.emit('error', serviceError(statusFor(bound, error)));
    });
  };
}

async function streamResponses(
  bound: BoundRpc,
  call: ServerWritableStream<Buffer, Buffer>,
  request: Record<string, unknown>,
  context: CallContext,
): Promise<void> {
  const result = await bound.invoke(request, context);
  const iterable = asIterable(result, bound);
  const { response } = bound.rpc;
  for await (const item of iterable) {
    // An array is a batch of messages (what List yields): written without an async step per message.
    const batch = Array.isArray(item) ? item : undefined;
    const count = batch ? batch.length : 1;
    for (let i = 0; i < count && !call.cancelled; i++) {
      // Pull more only once the transport can take it, so a slow client slows the reads.
      if (!call.write(response.encode(batch ? batch[i] : item))) await drainedOrCancelled(call);
    }
    if (call.cancelled) break;
  }
  if (!call.cancelled) call.end();
}

function asIterable(result: unknown, bound: BoundRpc): AsyncIterable<unknown> | Iterable<unknown> {
  if (result && typeof result === 'object') {
    if (Symbol.asyncIterator in result) return result as AsyncIterable<unknown>;
    if (Symbol.iterator in result) return result as Iterable<unknown>;
  }
  throw new TypeError(
    `${bound.rpc.path} is server streaming: its handler must return an async iterable (an async generator) or an array.`,
  );
}

function drainedOrCancelled(call: ServerWritableStream<Buffer, Buffer>): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      call.off('drain', done);
      call.off('cancelled', done);
      resolve();
    };
    call.on('drain', done);
    call.on('cancelled', done);
  });
}

function decodeRequest(bound: BoundRpc, bytes: Buffer): Record<string, unknown> | Error {
  try {
    return bound.rpc.request.decode(bytes);
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

function malformed(bound: BoundRpc, error: Error): Status {
  const typeName = bound.rpc.request.type.fullName.slice(1);
  const reason = error instanceof MalformedMessageError ? error.message : 'it could not be decoded';
  return { code: status.INVALID_ARGUMENT, details: `The request is not a valid ${typeName} message: ${reason}.` };
}

function statusFor(bound: BoundRpc, error: unknown): Status {
  const mapped = toGrpcStatus(error);
  if (mapped.unexpected) logger.error(`${bound.rpc.path} failed`, stackOf(error));
  return { code: mapped.code, details: mapped.details, metadata: mapped.metadata };
}

export function serviceError(s: Status): ServiceError {
  const error = new Error(s.details) as ServiceError;
  error.code = s.code;
  error.details = s.details;
  error.metadata = s.metadata ?? new Metadata();
  return error;
}

function stackOf(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
