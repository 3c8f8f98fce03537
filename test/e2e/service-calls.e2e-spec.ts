import * as grpc from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { ECHO_PROTO, EchoAppModule, observed } from '../fixtures/echo.app';
import { collect, GrpcClient, unary } from '../utils/sample-app';
import { serverErrorsDuring } from '../utils/captured-logs';
import { startApp } from '../utils/start-app';

describe('Service: per-call state, pipeline, streaming and errors', () => {
  let running: Awaited<ReturnType<typeof startApp>>;
  let echo: GrpcClient;

  beforeAll(async () => {
    running = await startApp(EchoAppModule, ECHO_PROTO);
    echo = running.client('echo.EchoService');
  });
  afterAll(() => running.close());

  it('gives each of 64 overlapping calls its own request, context and action', async () => {
    const replies = await Promise.all(Array.from({ length: 64 }, (_, id) => unary(echo, 'Echo', { id, delay_ms: (id * 7) % 23 })));
    replies.forEach((reply, id) => expect(reply).toEqual({ id, action: 'Echo', seen_by: `request ${id}` }));
  });

  it('runs the module interceptors, class guards and grpc-js server interceptors', async () => {
    observed.interceptedActions.length = 0;
    const before = observed.serverInterceptorCalls;
    await unary(echo, 'Echo', { id: 1 });
    expect(observed.interceptedActions).toEqual(['rpc:Echo']);
    expect(observed.serverInterceptorCalls).toBe(before + 1);
  });

  it('serves hand-made grpc-js services added through handlersHook', async () => {
    await expect(unary(running.client('echo.RawEcho'), 'Ping', { id: 3 })).resolves.toEqual({
      id: 3,
      action: 'Ping',
      seen_by: 'handlersHook',
    });
  });

  it('maps a failing guard to PERMISSION_DENIED', async () => {
    await expect(unary(echo, 'Fail', { id: 1 })).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
  });

  it('maps an unexpected error to INTERNAL without leaking its message or stack', async () => {
    const metadata = new grpc.Metadata();
    metadata.set('authorization', 'Bearer letmein');
    let error: grpc.ServiceError | undefined;
    const logged = await serverErrorsDuring(async () => {
      error = (await unary(echo, 'Fail', { id: 1 }, metadata).catch((e: unknown) => e)) as grpc.ServiceError;
    });
    expect(error).toMatchObject({ code: status.INTERNAL, details: 'Internal server error' });
    expect(JSON.stringify(error!.metadata.getMap())).not.toContain('secret');
    // The server's log keeps what the client must not see.
    expect(logged).toEqual([expect.stringContaining('Error: secret database password in the stack\n    at EchoService.Fail')]);
  });

  it('streams every message of a server-streaming rpc', async () => {
    const items = await collect(echo, 'Count', { up_to: 1000 });
    expect(items).toHaveLength(1000);
    expect(items[999]).toMatchObject({ id: 1000, action: 'Count' });
  });

  it('stops producing when the client cancels', async () => {
    const cancelledBefore = observed.countCancelled;
    const call: grpc.ClientReadableStream<{ id: number }> = echo.Count({ up_to: 10_000_000 });
    await new Promise<void>((resolve) => {
      call.on('data', (item: { id: number }) => {
        if (item.id === 50) {
          call.cancel();
          resolve();
        }
      });
      call.on('error', () => undefined);
    });
    // The handler's generator has ended (its `finally` counted the cancel): it produces no more.
    await waitFor(() => observed.countCancelled > cancelledBefore);
    expect(observed.countProduced).toBeLessThan(100_000);
  });

  it('stops producing when the deadline passes', async () => {
    const cancelledBefore = observed.countCancelled;
    const error = await collect(echo, 'Count', { up_to: 10_000_000 }, { deadline: Date.now() + 150 }).catch((e) => e);
    expect(error).toMatchObject({ code: status.DEADLINE_EXCEEDED });
    await waitFor(() => observed.countCancelled > cancelledBefore);
  });

  it('answers a unary call past its deadline with DEADLINE_EXCEEDED', async () => {
    await expect(unary(echo, 'Echo', { id: 1, delay_ms: 300 }, new grpc.Metadata(), { deadline: Date.now() + 50 })).rejects.toMatchObject({
      code: status.DEADLINE_EXCEEDED,
    });
  });

  it('keeps int64 precision and converts Timestamps and wrappers both ways', async () => {
    const when = new Date('2024-05-06T07:08:09.123Z');
    const reply = await unary(echo, 'Types', {
      big: '9007199254740993',
      when: { seconds: String(Math.floor(when.getTime() / 1000)), nanos: 123_000_000 },
      wrapped_big: { value: '-9223372036854775808' },
      bigs: ['1', '18446744073709551', '-5'],
    });
    expect(reply).toMatchObject({
      big: '9007199254740993',
      when: { seconds: String(Math.floor(when.getTime() / 1000)), nanos: 123_000_000 },
      wrapped_big: { value: '-9223372036854775808' },
      bigs: ['1', '18446744073709551', '-5'],
    });
    expect(reply.maybe).toBeUndefined();
    const withOptional = await unary(echo, 'Types', { maybe: '' });
    expect(withOptional).toMatchObject({ maybe: '', wrapped_big: null });
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
