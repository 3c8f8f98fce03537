import type { EntityManager, MetadataStorage } from '@mikro-orm/core';
import type { GrpcModelServiceOptions } from '../interfaces/grpc-model-service-options.interface';
import type { ResolvedGrpcFrameworkOptions } from '../interfaces/grpc-framework-options.interface';
import type { RpcHandler } from '../call/call-port';

/** What the testing toolkit reaches inside a `GrpcFrameworkServer`: not part of the public API. */
export interface ServerInternals {
  /** The options with every default filled in. */
  readonly options: ResolvedGrpcFrameworkOptions;
  /** Binds the services without listening: calls then only arrive in process. */
  serveInProcessOnly(): void;
  /** The handler of a method path such as `/blog_proto.PostController/Create`, once prepared. */
  handlerFor(path: string): RpcHandler | undefined;
  /** Replaces how each call's EntityManager is made (forks bound to a test's transaction), or restores it. */
  useEntityManagerFactory(factory: (() => EntityManager) | undefined): void;
  /** Per model service, the path each action takes (fast or not, and why), once prepared. */
  fastPathReport(): string[];
  /** The controllers decorated with `@GrpcModelService`, with their options, in module order. */
  registeredServices(): { instance: object; options: GrpcModelServiceOptions }[];
  /** MikroORM's entity metadata, when the application has MikroORM. */
  entityMetadata(): MetadataStorage | undefined;
}

const internals = new WeakMap<object, ServerInternals>();

export function registerInternals(server: object, api: ServerInternals): void {
  internals.set(server, api);
}

export function internalsOf(server: object): ServerInternals {
  const api = internals.get(server);
  if (!api) throw new Error('not a GrpcFrameworkServer');
  return api;
}
