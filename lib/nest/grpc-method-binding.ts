import type { NestInterceptor } from '@nestjs/common';
import type { ExternalContextCreator } from '@nestjs/core';
import { Observable } from 'rxjs';
import type { ProtoRegistry, RpcDefinition, ServiceDefinition } from '../proto/proto-registry';
import { GrpcMethodPattern, grpcPatternsOf, PARAM_ARGS_METADATA, rpcParamsFactory, STREAMING } from './microservices-internals';
import { PassThroughCall } from '../transport/pass-through-call';
import { RequestStream } from '../call/request-stream';
import { bindRpc } from './rpc-binding';
import type { DiscoveredController } from './service-binding';
import type { BoundRpc, Invoke } from '../transport/bound-rpc';
import { methodNames } from './undecorated-controllers';

/** A `@GrpcMethod`, `@GrpcStreamMethod` or `@GrpcStreamCall` handler of one of the application's controllers. */
export interface GrpcMethodHandler {
  controller: DiscoveredController & { instance: object };
  name: string;
  method: Function;
  pattern: GrpcMethodPattern;
}

/** Every `@nestjs/microservices` gRPC handler among the controllers (those of `@GrpcModelService` classes aside). */
export function grpcMethodHandlersAmong(
  controllers: readonly DiscoveredController[],
  frameworkServices: ReadonlySet<object>,
): GrpcMethodHandler[] {
  const handlers: GrpcMethodHandler[] = [];
  for (const controller of controllers) {
    const { instance } = controller;
    if (!instance || typeof instance !== 'object' || frameworkServices.has(instance)) continue;
    for (const [name, method] of methodNames(instance)) {
      for (const pattern of grpcPatternsOf(method)) handlers.push({ controller: { ...controller, instance }, name, method, pattern });
    }
  }
  return handlers;
}

/**
 * Binds `@GrpcMethod` handlers to the rpcs of the loaded protos with the semantics Nest's gRPC
 * transport gives them: a handler receives `(request, metadata, call)` and may answer with a
 * value, a promise or an Observable (a server stream writes each of its values);
 * `@GrpcStreamMethod` receives the request messages as an Observable, `@GrpcStreamCall` a call
 * emitting them (`PassThroughCall`). Guards, interceptors,
 * pipes (on `@Payload()`) and exception filters run as on Nest's transport; errors map to
 * statuses as a framework service's do (`RpcException({ code, message })` chooses the status).
 * `servedBy` holds the services the framework's own classes serve, and gains the rpcs bound here.
 */
export function bindGrpcMethods(
  handlers: readonly GrpcMethodHandler[],
  registry: ProtoRegistry,
  contextCreator: ExternalContextCreator,
  interceptors: NestInterceptor[],
  servedBy: Map<string, string>,
  problems: string[],
): BoundRpc[] {
  const bound: BoundRpc[] = [];
  for (const handler of handlers) {
    const { pattern } = handler;
    const where = `${handler.controller.instance.constructor.name}.${handler.name} (${decoratorOf(pattern)}('${pattern.service}', '${pattern.rpc}'))`;
    const definitions = servicesNamed(registry, pattern.service);
    if (!definitions.length) {
      problems.push(
        `${where}: no service ${pattern.service} in the loaded protos (declared: ${registry.serviceNames().join(', ') || 'none'}). Add its proto file to protoPath.`,
      );
      continue;
    }
    for (const definition of definitions) {
      const rpc = definition.rpcs.find((r) => r.name === pattern.rpc);
      const problem = !rpc
        ? `${definition.name} has no rpc ${pattern.rpc} (its rpcs: ${definition.rpcs.map((r) => r.name).join(', ')})`
        : streamingProblem(pattern, rpc);
      if (problem) {
        problems.push(`${where}: ${problem}.`);
        continue;
      }
      const owner = servedBy.get(definition.name) ?? servedBy.get(rpc!.path);
      if (owner) {
        problems.push(`${where}: ${rpc!.path} is already served by ${owner}.`);
        continue;
      }
      servedBy.set(rpc!.path, where);
      bound.push(bindHandler(handler, definition, rpc!, contextCreator, interceptors));
    }
  }
  return bound;
}

function bindHandler(
  handler: GrpcMethodHandler,
  definition: ServiceDefinition,
  rpc: RpcDefinition,
  contextCreator: ExternalContextCreator,
  interceptors: NestInterceptor[],
): BoundRpc {
  const { instance, moduleKey } = handler.controller;
  const method = handler.method;
  const passThrough = handler.pattern.streaming === STREAMING.passThrough;
  return bindRpc<unknown[]>({
    rpc,
    service: definition.name,
    instance,
    moduleKey,
    name: handler.name,
    decorated: method,
    run: (...args) => method.apply(instance, args),
    // Nest's arguments: the request (an Observable of them for @GrpcStreamMethod), the metadata, the call.
    argsOf: (request, context) => [request instanceof RequestStream ? observableOf(request) : request, context.metadata, context.call],
    interceptors,
    contextCreator,
    microservices: { params: { metadataKey: PARAM_ARGS_METADATA, factory: rpcParamsFactory() as never } },
    ...(passThrough ? { invokeWith: (pipeline) => passThroughInvoke(pipeline, rpc.responseStream) } : {}),
  });
}

/**
 * A `@GrpcStreamCall` handler, given the call (and, client streaming, the callback) as Nest's
 * transport gives them: a client-streaming call answers when the handler calls back; a bidi
 * call's responses are what the handler writes until it calls `end()`.
 */
function passThroughInvoke(pipeline: (...args: unknown[]) => Promise<unknown>, responseStream: boolean): Invoke {
  if (responseStream) {
    return async (request, context) => {
      const call = new PassThroughCall(request as RequestStream, context);
      pipeline(call).catch((error: unknown) => call.fail(error));
      return call.responses();
    };
  }
  return (request, context) =>
    new Promise((resolve, reject) => {
      const call = new PassThroughCall(request as RequestStream, context);
      pipeline(call, (error: unknown, response: unknown) => (error ? reject(error) : resolve(response))).catch(reject);
    });
}

/** The loaded services a pattern names: by full name, or by name without the package as Nest matches them. */
function servicesNamed(registry: ProtoRegistry, name: string): ServiceDefinition[] {
  return registry
    .serviceNames()
    .filter((full) => full === name || full.slice(full.lastIndexOf('.') + 1) === name)
    .map((full) => registry.service(full)!);
}

/** Why Nest's transport would not serve this handler for this rpc, if it would not. */
function streamingProblem(pattern: GrpcMethodPattern, rpc: RpcDefinition): string | undefined {
  if (rpc.requestStream && pattern.streaming === STREAMING.none)
    return `${rpc.name} is client streaming: decorate it with @GrpcStreamMethod`;
  if (!rpc.requestStream && pattern.streaming !== STREAMING.none) return `${rpc.name} takes one request: decorate it with @GrpcMethod`;
  return undefined;
}

function decoratorOf(pattern: GrpcMethodPattern): string {
  return pattern.streaming === STREAMING.rx
    ? '@GrpcStreamMethod'
    : pattern.streaming === STREAMING.passThrough
      ? '@GrpcStreamCall'
      : '@GrpcMethod';
}

/** The request messages as `@GrpcStreamMethod` handlers take them: an Observable (which, like Nest's, does not wait for its subscriber). */
function observableOf(requests: RequestStream): Observable<unknown> {
  return new Observable((subscriber) => {
    void (async () => {
      for await (const message of requests) {
        if (subscriber.closed) return;
        subscriber.next(message);
      }
      subscriber.complete();
    })().catch((error: unknown) => subscriber.error(error));
  });
}
