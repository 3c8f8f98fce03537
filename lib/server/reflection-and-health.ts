import type { Server } from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation, protoPath as healthProtoPath, ServingStatusMap } from 'grpc-health-check';
import * as path from 'node:path';

/**
 * Adds gRPC server reflection (v1 and v1alpha) describing the application's protos and the
 * health service, so grpcurl, Postman and similar tools work without local .proto files.
 */
export function addReflection(server: Server, protoFiles: readonly string[], includeDirs: readonly string[], withHealth: boolean): void {
  const files = withHealth ? [...protoFiles, healthProtoPath] : [...protoFiles];
  const definition = protoLoader.loadSync(files, {
    keepCase: true,
    includeDirs: [...includeDirs, ...protoFiles.map((file) => path.dirname(path.resolve(file))), process.cwd()],
  });
  // @grpc/reflection is typed against its own copy of proto-loader; the shape is the same.
  new ReflectionService(definition as ConstructorParameters<typeof ReflectionService>[0]).addToServer(server);
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

  addTo(server: Server): void {
    this.health.addToServer(server);
  }

  notServing(): void {
    for (const [service, status] of Object.entries(this.statusMap('NOT_SERVING'))) this.health.setStatus(service, status);
  }

  private statusMap(status: 'SERVING' | 'NOT_SERVING'): ServingStatusMap {
    return Object.fromEntries(['', ...this.services].map((service) => [service, status]));
  }
}
