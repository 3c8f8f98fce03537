import { COMMAND_LINE_ENV, commandLineSettingsOf, resolveOptions } from '../../lib/module/resolve-options';

describe('resolveOptions', () => {
  it('fills in every default', () => {
    expect(resolveOptions({ protoPath: 'a.proto' })).toMatchObject({
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

  it("lets runserver's flags win over the module's options", () => {
    const resolved = resolveOptions(
      { protoPath: ['a.proto'], url: '127.0.0.1:1', channelOptions: { 'grpc.keepalive_time_ms': 1000 } },
      { url: '0.0.0.0:9000', shutdownGracePeriodMs: 250, maxConcurrentStreams: 8 },
    );
    expect(resolved).toMatchObject({ url: '0.0.0.0:9000', shutdownGracePeriodMs: 250 });
    expect(resolved.channelOptions).toEqual({ 'grpc.keepalive_time_ms': 1000, 'grpc.max_concurrent_streams': 8 });
  });

  it('reads only the variable runserver writes, never a stray one, and refuses one it did not write', () => {
    const stray = { GRPC_FRAMEWORK_URL: '0.0.0.0:9000', GRPC_URL: '0.0.0.0:9001', PORT: '9002' };
    expect(resolveOptions({ protoPath: 'a.proto', url: '127.0.0.1:1' }, commandLineSettingsOf(stray)).url).toBe('127.0.0.1:1');
    const fromRunserver = commandLineSettingsOf({ [COMMAND_LINE_ENV]: JSON.stringify({ url: '0.0.0.0:9000' }) });
    expect(resolveOptions({ protoPath: 'a.proto', url: '127.0.0.1:1' }, fromRunserver).url).toBe('0.0.0.0:9000');
    expect(() => commandLineSettingsOf({ [COMMAND_LINE_ENV]: '0.0.0.0:9000' })).toThrow(
      'GRPC_FRAMEWORK_RUNSERVER is set but is not the JSON object grpc-framework runserver writes; unset it.',
    );
  });

  it('signs page tokens with the given key, the one runserver shares among its workers, else a random one per process', () => {
    const given = 'k'.repeat(32);
    expect(resolveOptions({ protoPath: 'a.proto', pageTokenSecret: given }, { pageTokenSecret: 's'.repeat(32) }).pageTokenSecret).toBe(
      given,
    );
    expect(resolveOptions({ protoPath: 'a.proto' }, { pageTokenSecret: 's'.repeat(32) }).pageTokenSecret).toBe('s'.repeat(32));
    const first = resolveOptions({ protoPath: 'a.proto' }).pageTokenSecret;
    const second = resolveOptions({ protoPath: 'a.proto' }).pageTokenSecret;
    expect(Buffer.byteLength(first)).toBe(32);
    expect(first).not.toEqual(second);
    expect(() => resolveOptions({ protoPath: 'a.proto', pageTokenSecret: 'short' })).toThrow(
      /pageTokenSecret is 5 bytes; give at least 32/,
    );
  });

  it('refuses options without protoPath, saying what to give', () => {
    expect(() => resolveOptions({ protoPath: [] })).toThrow(/needs `protoPath`/);
  });
});
