import { ENV, resolveOptions } from '../../lib/module/resolve-options';

describe('resolveOptions', () => {
  it('fills in every default', () => {
    expect(resolveOptions({ protoPath: 'a.proto' }, {})).toMatchObject({
      protoPath: ['a.proto'],
      url: '127.0.0.1:50051',
      maxReceiveMessageLength: 4 * 1024 * 1024 - 64 * 1024,
      maxSendMessageLength: 4 * 1024 * 1024,
      callTimeoutMs: 30_000,
      maxServerStreams: 1000,
      maxServerStreamsPerConnection: 100,
      streamMemoryBytes: 32 * 1024 * 1024,
      shutdownGracePeriodMs: 5000,
      listen: true,
      reflection: true,
      health: true,
      loader: { includeDirs: [], longs: String, enums: String },
    });
  });

  it("lets runserver's flags, passed in the environment, win over the module's options", () => {
    const resolved = resolveOptions(
      { protoPath: ['a.proto'], url: '127.0.0.1:1', channelOptions: { 'grpc.keepalive_time_ms': 1000 } },
      { [ENV.url]: '0.0.0.0:9000', [ENV.shutdownGraceMs]: '250', [ENV.maxConcurrentStreams]: '8' },
    );
    expect(resolved).toMatchObject({ url: '0.0.0.0:9000', shutdownGracePeriodMs: 250 });
    expect(resolved.channelOptions).toEqual({ 'grpc.keepalive_time_ms': 1000, 'grpc.max_concurrent_streams': 8 });
  });

  it('refuses options without protoPath, saying what to give', () => {
    expect(() => resolveOptions({ protoPath: [] }, {})).toThrow(/needs `protoPath`/);
  });
});
