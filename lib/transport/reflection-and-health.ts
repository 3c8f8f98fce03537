import type { Server } from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation, ServingStatusMap } from 'grpc-health-check';
import type { ProtoRegistry } from '../proto/proto-registry';

/**
 * Adds gRPC server reflection (v1 and v1alpha) describing the given registries' files, so
 * grpcurl, Postman and similar tools work without local .proto files. Each file is served
 * under its import path with its real dependencies (see `ProtoRegistry.fileDescriptors`).
 */
export function addReflection(server: Pick<Server, 'addService'>, registries: readonly ProtoRegistry[]): void {
  const byName = new Map<string, Buffer>();
  for (const registry of registries) {
    for (const file of registry.fileDescriptors()) if (!byName.has(file.name)) byName.set(file.name, file.bytes);
  }
  // @grpc/reflection reads the `fileDescriptorProtos` of a proto-loader package definition; only that part is given.
  const definition = { files: { fileDescriptorProtos: [...byName.values()] } };
  new ReflectionService(definition as unknown as ConstructorParameters<typeof ReflectionService>[0]).addToServer(server);
}

/**
 * The standard `grpc.health.v1.Health` service: SERVING for the server ('') and each served
 * service while the server runs, NOT_SERVING once it starts shutting down.
 */
export class ServingHealth {
  private readonly health: HealthImplementation;

  constructor(private readonly services: readonly string[]) {
    this.health = new HealthImplementation(this.statusMap('SERVING'));
  }

  addTo(server: Pick<Server, 'addService'>): void {
    this.health.addToServer(server);
  }

  notServing(): void {
    for (const [service, status] of Object.entries(this.statusMap('NOT_SERVING'))) this.health.setStatus(service, status);
  }

  private statusMap(status: 'SERVING' | 'NOT_SERVING'): ServingStatusMap {
    return Object.fromEntries(['', ...this.services].map((service) => [service, status]));
  }
}
