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

  it('signs page tokens with the given key, the one runserver shares among its workers, else a random one per process', () => {
    const given = 'k'.repeat(32);
    expect(resolveOptions({ protoPath: 'a.proto', pageTokenSecret: given }, { [ENV.pageTokenSecret]: 's'.repeat(32) }).pageTokenSecret).toBe(given);
    expect(resolveOptions({ protoPath: 'a.proto' }, { [ENV.pageTokenSecret]: 's'.repeat(32) }).pageTokenSecret).toBe('s'.repeat(32));
    const first = resolveOptions({ protoPath: 'a.proto' }, {}).pageTokenSecret;
    const second = resolveOptions({ protoPath: 'a.proto' }, {}).pageTokenSecret;
    expect(Buffer.byteLength(first)).toBe(32);
    expect(first).not.toEqual(second);
    expect(() => resolveOptions({ protoPath: 'a.proto', pageTokenSecret: 'short' }, {})).toThrow(/pageTokenSecret is 5 bytes; give at least 32/);
  });

  it('refuses options without protoPath, saying what to give', () => {
    expect(() => resolveOptions({ protoPath: [] }, {})).toThrow(/needs `protoPath`/);
  });
});
