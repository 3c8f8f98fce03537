import { create, createFileRegistry, fromBinary, toBinary } from '@bufbuild/protobuf';
import type { DescMessage, DescMethod, MessageShape } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { ConnectError, createContextKey } from '@connectrpc/connect';
import type { ConnectRouter, HandlerContext } from '@connectrpc/connect';
import type { ServerDuplexStream, ServerReadableStream, ServerUnaryCall, ServerWritableStream } from '@grpc/grpc-js';
import type { ProtoRegistry } from '../proto/proto-registry';
import type { CallPeer } from '../server/bridged-server-call';
import type { InProcessHandler } from '../server/call-handlers';
import { WebCall } from './web-call';
import { WebJson } from './web-json';

/** Who sent a web request: set per request by the listener, read by each call. */
export const PEER = createContextKey<CallPeer>({ peer: 'web' }, { description: 'the web client' });

const EMPTY = Buffer.alloc(0);

/** A served rpc as the web transports see it: its schema (for JSON) and its handler. */
export interface WebMethod {
  path: string;
  method: DescMethod;
  entry: InProcessHandler;
  /** Reads and writes its messages' JSON. */
  json: WebJson;
}

/** Every rpc the gRPC server serves, by method path, with its @bufbuild/protobuf schema. */
export function webMethods(registry: ProtoRegistry, handlers: ReadonlyMap<string, InProcessHandler>): Map<string, WebMethod> {
  const files = createFileRegistry(create(FileDescriptorSetSchema, { file: [...registry.fileDescriptors()] }));
  const json = new WebJson();
  const methods = new Map<string, WebMethod>();
  for (const [path, entry] of handlers) {
    const [, serviceName, methodName] = path.split('/');
    const method = files.getService(serviceName)?.methods.find((m) => m.name === methodName);
    if (method) methods.set(path, { path, method, entry, json });
  }
  return methods;
}

/**
 * Connect routes for every served rpc: the same handler answers gRPC-Web and Connect.
 * Messages pass to it in the binary encoding it reads from grpc-js, whatever the web
 * request's encoding was.
 */
export function webRoutes(methods: ReadonlyMap<string, WebMethod>): (router: ConnectRouter) => void {
  return (router) => {
    for (const { path, method, entry } of methods.values()) addRoute(router, method, path, entry);
  };
}

function addRoute(router: ConnectRouter, method: DescMethod, path: string, entry: InProcessHandler): void {
  const encode = (message: MessageShape<DescMessage>): Buffer => Buffer.from(toBinary(method.input, message));
  const decode = (bytes: Buffer): MessageShape<DescMessage> => fromBinary(method.output, bytes);
  const start = (request: Buffer, context: HandlerContext): WebCall => new WebCall(path, request, context, context.values.get(PEER));
  switch (entry.type) {
    case 'unary':
      router.rpc(method as DescMethod & { methodKind: 'unary' }, async (request, context) => {
        const call = start(encode(request), context);
        entry.handler(call.call as unknown as ServerUnaryCall<Buffer, Buffer>, call.answer);
        return decode(await call.response());
      });
      break;
    case 'serverStream':
      router.rpc(method as DescMethod & { methodKind: 'server_streaming' }, async function* (request, context) {
        const call = start(encode(request), context);
        entry.handler(call.call as unknown as ServerWritableStream<Buffer, Buffer>);
        for await (const bytes of call.messages()) yield decode(bytes);
      });
      break;
    case 'clientStream':
      router.rpc(method as DescMethod & { methodKind: 'client_streaming' }, async (requests, context) => {
        const call = start(EMPTY, context);
        entry.handler(call.call as unknown as ServerReadableStream<Buffer, Buffer>, call.answer);
        void feed(call, requests, encode);
        return decode(await call.response());
      });
      break;
    case 'bidi':
      router.rpc(method as DescMethod & { methodKind: 'bidi_streaming' }, async function* (requests, context) {
        const call = start(EMPTY, context);
        entry.handler(call.call as unknown as ServerDuplexStream<Buffer, Buffer>);
        void feed(call, requests, encode);
        for await (const bytes of call.messages()) yield decode(bytes);
      });
      break;
  }
}

/** Hands the client's request messages to the handler as it reads them, then half-closes. */
async function feed<T>(call: WebCall, requests: AsyncIterable<T>, encode: (message: T) => Buffer): Promise<void> {
  try {
    for await (const request of requests) {
      if (call.call.cancelled) return;
      await new Promise<void>((ack) => call.call.pushRequest(encode(request), ack));
    }
    call.call.endRequests();
  } catch (error) {
    // The client's stream broke (a malformed message, a reset): that is the call's status.
    call.fail(ConnectError.from(error));
  }
}
