import { Cors } from '../../lib/web/cors';
import type { WebRequest, WebResponse } from '../../lib/interfaces/grpc-web-options.interface';

/** A request and a response that record what Cors sets: Cors only reads headers and the method, and sets headers. */
function exchange(method: string, headers: Record<string, string>) {
  const set: Record<string, string> = {};
  let status: number | undefined;
  const request = { method, headers } as unknown as WebRequest;
  const response = {
    setHeader: (name: string, value: string) => (set[name.toLowerCase()] = value),
    writeHead: (code: number) => (status = code),
    end: () => undefined,
  } as unknown as WebResponse;
  return { request, response, set, status: () => status };
}

describe('Cors', () => {
  const preflight = { origin: 'https://app.example', 'access-control-request-method': 'POST' };

  it('allows the configured extras: headers, exposed headers, credentials, max age and methods', () => {
    const cors = new Cors(
      {
        origins: ['https://app.example'],
        allowedHeaders: ['X-Tenant'],
        exposedHeaders: ['X-Request-Id'],
        credentials: true,
        maxAgeSeconds: 60,
      },
      ['DELETE'],
    );
    const ask = exchange('OPTIONS', preflight);
    expect(cors.handle(ask.request, ask.response)).toBe(true);
    expect(ask.status()).toBe(204);
    expect(ask.set['access-control-allow-origin']).toBe('https://app.example');
    expect(ask.set['access-control-allow-credentials']).toBe('true');
    expect(ask.set['access-control-max-age']).toBe('60');
    expect(ask.set['access-control-allow-headers']).toMatch(/X-Tenant/);
    expect(ask.set['access-control-allow-methods']).toMatch(/DELETE/);
    const call = exchange('POST', { origin: 'https://app.example' });
    expect(cors.handle(call.request, call.response)).toBe(false);
    expect(call.set['access-control-expose-headers']).toMatch(/X-Request-Id/);
    expect(call.set['access-control-expose-headers']).toMatch(/Grpc-Status-Details-Bin/i);
  });

  it("allows any origin with '*', echoing it; none by default", () => {
    const any = exchange('OPTIONS', { ...preflight, origin: 'https://elsewhere.example' });
    new Cors({ origins: '*' }).handle(any.request, any.response);
    expect(any.set['access-control-allow-origin']).toBe('https://elsewhere.example');
    const none = exchange('OPTIONS', preflight);
    expect(new Cors().handle(none.request, none.response)).toBe(true);
    expect(none.set['access-control-allow-origin']).toBeUndefined();
    expect(none.set['access-control-allow-credentials']).toBeUndefined();
    // A request without an origin (curl) is served without CORS headers.
    const curl = exchange('POST', {});
    expect(new Cors({ origins: '*' }).handle(curl.request, curl.response)).toBe(false);
    expect(curl.set['access-control-allow-origin']).toBeUndefined();
  });
});
