import { Module } from '@nestjs/common';
import { GrpcFrameworkModule, GrpcFrameworkServer } from 'nestjs-grpc-framework';
import { ECHO_PROTO, EchoService, observed, TokenGuard } from '../fixtures/echo.app';
import { startApp } from '../utils/start-app';
import { postJson } from '../utils/web-clients';

@Module({
  imports: [GrpcFrameworkModule.forRoot({ protoPath: ECHO_PROTO, url: '127.0.0.1:0', web: { url: '127.0.0.1:0' } })],
  providers: [TokenGuard],
  controllers: [EchoService],
})
class EchoWebModule {}

/** Enums in JSON over the web address (Connect): names or numbers in, names out, as proto3's JSON mapping says; handlers see names. */
describe('enum fields over Connect JSON', () => {
  let running: Awaited<ReturnType<typeof startApp>>;
  let server: GrpcFrameworkServer;

  beforeAll(async () => {
    running = await startApp(EchoWebModule, ECHO_PROTO);
    server = running.app.get(GrpcFrameworkServer);
  });
  afterAll(() => running.close());

  it('takes enum names, singular and repeated, and answers with names', async () => {
    const reply = await postJson(server, '/echo.EchoService/Types', { mood: 'HAPPY', moods: ['SAD', 'HAPPY'] });
    expect(reply).toMatchObject({ status: 200, body: { mood: 'HAPPY', moods: ['SAD', 'HAPPY'] } });
    expect(observed.typesRequest).toMatchObject({ mood: 'HAPPY', moods: ['SAD', 'HAPPY'] });
  });

  it('takes enum numbers, as proto3 JSON allows, and answers with their names', async () => {
    const reply = await postJson(server, '/echo.EchoService/Types', { mood: 2, moods: [1] });
    expect(reply).toMatchObject({ status: 200, body: { mood: 'SAD', moods: ['HAPPY'] } });
    expect(observed.typesRequest).toMatchObject({ mood: 'SAD', moods: ['HAPPY'] });
  });

  it('gives the handler the zero value by name when the request leaves it out, and writes it in the answer (as every zero value)', async () => {
    const reply = await postJson(server, '/echo.EchoService/Types', {});
    expect(reply).toMatchObject({ status: 200, body: { mood: 'MOOD_UNSPECIFIED', moods: [] } });
    expect(observed.typesRequest).toMatchObject({ mood: 'MOOD_UNSPECIFIED', moods: [] });
  });

  it('refuses a name the enum does not have with invalid_argument, naming the value', async () => {
    const reply = await postJson(server, '/echo.EchoService/Types', { mood: 'ANGRY' });
    expect(reply).toMatchObject({ status: 400, body: { code: 'invalid_argument', message: expect.stringContaining('ANGRY') } });
  });
});
