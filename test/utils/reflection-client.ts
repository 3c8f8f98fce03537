import { fromBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import type { FileDescriptorProto } from '@bufbuild/protobuf/wkt';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import * as path from 'node:path';
import type { GrpcClient } from './sample-app';

const REFLECTION_PROTO_DIR = path.join(path.dirname(require.resolve('@grpc/reflection')), '..', 'proto');

export const loaded = grpc.loadPackageDefinition(
  protoLoader.loadSync(['grpc/reflection/v1/reflection.proto', 'grpc/reflection/v1alpha/reflection.proto', healthProtoPath], {
    keepCase: true,
    enums: String,
    defaults: true,
    oneofs: true,
    includeDirs: [REFLECTION_PROTO_DIR],
  }),
) as unknown as {
  grpc: {
    reflection: Record<'v1' | 'v1alpha', { ServerReflection: typeof grpc.Client }>;
    health: { v1: { Health: typeof grpc.Client } };
  };
};

export type ReflectionResponse = {
  list_services_response?: { service: { name: string }[] };
  file_descriptor_response?: { file_descriptor_proto: Buffer[] };
  error_response?: { error_code: number; error_message: string };
};

/** Sends one reflection request and resolves with its answer. */
export function reflect(client: GrpcClient, request: object): Promise<ReflectionResponse> {
  return new Promise((resolve, reject) => {
    const call = client.ServerReflectionInfo();
    call.on('data', (response: ReflectionResponse) => {
      resolve(response);
      call.end();
    });
    call.on('error', reject);
    call.write(request);
  });
}

/**
 * Everything a strict client learns through reflection alone: every listed service's file,
 * then, by file name, each dependency that did not come with it. Throws when an answer is an error.
 */
export async function filesFromReflection(address: string, version: 'v1' | 'v1alpha' = 'v1'): Promise<Map<string, FileDescriptorProto>> {
  const client = new loaded.grpc.reflection[version].ServerReflection(address, grpc.credentials.createInsecure()) as GrpcClient;
  try {
    const files = new Map<string, FileDescriptorProto>();
    const take = (response: ReflectionResponse, asked: string): void => {
      if (!response.file_descriptor_response)
        throw new Error(`reflection answered ${JSON.stringify(response.error_response)} for ${asked}`);
      for (const bytes of response.file_descriptor_response.file_descriptor_proto) {
        const file = fromBinary(FileDescriptorProtoSchema, bytes);
        if (!files.has(file.name)) files.set(file.name, file);
      }
    };
    const list = await reflect(client, { list_services: '' });
    for (const { name } of list.list_services_response!.service) {
      take(await reflect(client, { file_containing_symbol: name }), name);
    }
    for (let missing = missingDependencies(files); missing.length; missing = missingDependencies(files)) {
      for (const name of missing) take(await reflect(client, { file_by_filename: name }), name);
    }
    return files;
  } finally {
    client.close();
  }
}

function missingDependencies(files: Map<string, FileDescriptorProto>): string[] {
  return [...new Set([...files.values()].flatMap((file) => file.dependency))].filter((name) => !files.has(name));
}

/** The files with each one after its dependencies, as a FileDescriptorSet lists them for a descriptor pool. */
export function dependenciesFirst(files: Map<string, FileDescriptorProto>): FileDescriptorProto[] {
  const ordered: FileDescriptorProto[] = [];
  const placed = new Set<string>();
  const place = (file: FileDescriptorProto): void => {
    if (placed.has(file.name)) return;
    placed.add(file.name);
    for (const dependency of file.dependency) place(files.get(dependency)!);
    ordered.push(file);
  };
  for (const file of files.values()) place(file);
  return ordered;
}
