import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ProtoRegistry } from '../../lib/proto/proto-registry';

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
}
message Req { string name = 1; string target = 2; }
`;

describe('google.api.http rules read from the protos', () => {
  it('gives each rpc its bindings: verb, path, body, response_body, additional and custom ones', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'http-rules-'));
    try {
      fs.writeFileSync(path.join(dir, 'shelf.proto'), PROTO);
      const registry = ProtoRegistry.load([path.join(dir, 'shelf.proto')], [], { longs: String, enums: String });
      const rules = Object.fromEntries(registry.service('shelf.Shelves')!.rpcs.map((rpc) => [rpc.name, rpc.http]));
      expect(rules).toEqual({
        Get: [
          { method: 'GET', path: '/v1/{name=shelves/*}' },
          { method: 'GET', path: '/v1/shelves/{name}/current', responseBody: 'name' },
          { method: 'HEAD', path: '/v1/{name=shelves/*}' },
        ],
        Move: [{ method: 'POST', path: '/v1/{name=shelves/*}:move', body: 'target' }],
        Plain: [],
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
