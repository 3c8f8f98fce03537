import { grpcServiceOptionsOf } from '../decorators/grpc-model-service.decorator';
import type { ProtoRegistry } from '../proto/proto-registry';
import { PATTERN_METADATA } from './microservices-internals';
import type { DiscoveredController } from './service-binding';

/**
 * Controllers that look like the implementation of a loaded proto service nobody serves (their
 * methods carry the names of at least half of its rpcs) but are not decorated with
 * `@GrpcModelService`: typically decorated with `GrpcService` from `@nestjs/microservices`,
 * picked by an IDE's auto-import, which serves nothing here. Controllers with
 * `@nestjs/microservices` handlers (`@GrpcMethod`) are served as such (`grpc-method-binding.ts`).
 */
export function undecoratedImplementations(
  controllers: readonly DiscoveredController[],
  registry: ProtoRegistry,
  served: ReadonlySet<string>,
): string[] {
  const unserved = registry
    .serviceNames()
    .filter((name) => !served.has(name))
    .map((name) => registry.service(name)!);
  const problems: string[] = [];
  for (const { instance } of controllers) {
    if (!instance || typeof instance !== 'object' || grpcServiceOptionsOf(instance.constructor)) continue;
    const methods = methodNames(instance);
    if (!methods.size || [...methods.values()].some((method) => Reflect.hasMetadata(PATTERN_METADATA, method))) continue;
    for (const service of unserved) {
      const matching = service.rpcs.filter((rpc) => methods.has(rpc.name)).map((rpc) => rpc.name);
      if (!matching.length || matching.length * 2 < service.rpcs.length) continue;
      const className = instance.constructor.name;
      problems.push(
        `${className} has methods named after the rpcs of ${service.name} (${matching.join(', ')}${service.file ? `, ${service.file}` : ''}) ` +
          `but is not decorated with @GrpcModelService, so nothing serves them. If it carries GrpcService from ` +
          `@nestjs/microservices (an IDE auto-import), decorate it with @GrpcModelService('${service.name}') from nestjs-grpc-framework instead.`,
      );
    }
  }
  return problems;
}

/** Every method a controller instance has, by name, through its class chain. */
export function methodNames(instance: object): Map<string, Function> {
  const methods = new Map<string, Function>();
  for (let proto = Object.getPrototypeOf(instance); proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (name === 'constructor' || methods.has(name)) continue;
      const value = Object.getOwnPropertyDescriptor(proto, name)?.value;
      if (typeof value === 'function') methods.set(name, value);
    }
  }
  return methods;
}
