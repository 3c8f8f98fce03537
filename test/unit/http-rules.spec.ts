import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Logger } from '@nestjs/common';
import { ProtoRegistry } from '../../lib/proto/proto-registry';
import type { RpcHandler } from '../../lib/call/call-port';
import { webRequestHandler } from '../../lib/web/web-transport';

const PROTO = `
syntax = "proto3";
package shelf;
import "google/api/annotations.proto";
service Shelves {
  rpc Get(Req) returns (Req) {
    option (google.api.http) = {
      get: "/v1/{name=shelves/*}"
      additional_bindings { get: "/v1/shelves/{name}/current" response_body: "name" }
      additional_bindings { custom: { kind: "HEAD" path: "/v1/{name=shelves/*}" } }
    };
  }
  rpc Move(Req) returns (Req) { option (google.api.http) = { post: "/v1/{name=shelves/*}:move" body: "target" }; }
  rpc Plain(Req) returns (Req) {}
  rpc Watch(Req) returns (stream Req) { option (google.api.http) = { get: "/v1/{name=shelves/*}:watch" }; }
}
message Req { string name = 1; string target = 2; }
`;

describe('google.api.http rules read from the protos', () => {
  /** The shelf proto's registry, read from a temporary file. */
  function withRegistry(use: (registry: ProtoRegistry) => void): void {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'http-rules-'));
    try {
      fs.writeFileSync(path.join(dir, 'shelf.proto'), PROTO);
      use(ProtoRegistry.load([path.join(dir, 'shelf.proto')], [], { longs: String, enums: String }));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  it('gives each rpc its bindings: verb, path, body, response_body, additional and custom ones', () => {
    withRegistry((registry) => {
      const rules = Object.fromEntries(registry.service('shelf.Shelves')!.rpcs.map((rpc) => [rpc.name, rpc.http]));
      expect(rules).toEqual({
        Get: [
          { method: 'GET', path: '/v1/{name=shelves/*}' },
          { method: 'GET', path: '/v1/shelves/{name}/current', responseBody: 'name' },
          { method: 'HEAD', path: '/v1/{name=shelves/*}' },
        ],
        Move: [{ method: 'POST', path: '/v1/{name=shelves/*}:move', body: 'target' }],
        Plain: [],
        Watch: [{ method: 'GET', path: '/v1/{name=shelves/*}:watch' }],
      });
    });
  });

  it('warns at start-up about a streaming rpc with rules, which is not served as an HTTP route', () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      withRegistry((registry) => {
        const noop = () => undefined;
        const handlers = new Map<string, RpcHandler>([
          ['/shelf.Shelves/Get', { type: 'unary', handler: noop }],
          ['/shelf.Shelves/Watch', { type: 'serverStream', handler: noop }],
        ]);
        webRequestHandler(registry, handlers, { requestTimeoutMs: 30_000 }, { maxRequestBytes: 1024 });
      });
      expect(warn.mock.calls.map(([message]) => message)).toEqual([
        'shelf.Shelves/Watch has a google.api.http option, but only unary rpcs are served as HTTP routes: call it over Connect or gRPC-Web on the web address.',
      ]);
    } finally {
      warn.mockRestore();
    }
  });
});
