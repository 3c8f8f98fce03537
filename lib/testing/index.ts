// Testing toolkit: `import { useGrpcTestingApp } from 'nestjs-grpc-framework/testing'`.
export { GrpcTestingApp } from './grpc-testing-app';
export type { DatabaseIsolation, GrpcTestingOptions, TestClient, TestRpc } from './grpc-testing-app';
export { useGrpcTestingApp } from './use-grpc-testing-app';
export type { GrpcTestingContext } from './use-grpc-testing-app';
export { InProcessChannel } from './in-process-channel';
