import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { readProtoFile } from '../../lib/contract/proto-reader';
import { writeProtoFile } from '../../lib/contract/proto-writer';
import { mergeIntoExisting } from '../../lib/contract/stable-numbers';

const BUF = path.join(__dirname, '..', '..', '.tools', 'node_modules', '.bin', 'buf');

/** A file of package shop: the header, then the given body. */
const shop = (body: string) => `syntax = "proto3";\n\npackage shop;\n\n${body.trim()}\n`;

/** What a regeneration writes: `generated` (what the code describes now) merged into `existing`. */
function regenerate(existing: string, generated: string): { text: string; breaking: string[] } {
  const merged = mergeIntoExisting(readProtoFile('shop.proto', generated), readProtoFile('shop.proto', existing));
  return { text: writeProtoFile(merged.file), breaking: merged.breaking };
}

/**
 * `buf breaking` of `next` against `previous`: its findings, empty when compatible. WIRE_JSON
 * (what breaks the wire or JSON) plus removed rpcs and services, which WIRE_JSON allows but a
 * deployed client calling them does not.
 */
async function bufBreaking(previous: string, next: string): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'buf-breaking-'));
  for (const [name, text] of [
    ['before', previous],
    ['after', next],
  ]) {
    fs.mkdirSync(path.join(dir, name));
    fs.writeFileSync(path.join(dir, name, 'shop.proto'), text);
  }
  try {
    await promisify(execFile)(
      BUF,
      [
        'breaking',
        '.',
        '--against',
        '../before',
        '--config',
        '{"version":"v2","breaking":{"use":["WIRE_JSON","RPC_NO_DELETE","SERVICE_NO_DELETE"]}}',
      ],
      {
        cwd: path.join(dir, 'after'),
      },
    );
    return '';
  } catch (error) {
    return (error as { stdout: string }).stdout || String(error);
  } finally {
    fs.rmSync(dir, { recursive: true });
  }
}

const V1 = shop(`
service ItemController {
    // Every item.
    rpc List(ItemListRequest) returns (stream Item) {}
    rpc Retrieve(ItemRetrieveRequest) returns (Item) {
        option deprecated = true;
    }
}

// An item on sale.
message Item {
    int32 id = 1;
    // Shown to customers.
    string name = 2;
    string note = 3;
    ItemColor color = 4;
}

enum ItemColor {
    ITEM_COLOR_UNSPECIFIED = 0;
    ITEM_COLOR_RED = 1;
    ITEM_COLOR_BLUE = 2;
}

message ItemListRequest {
}

message ItemRetrieveRequest {
    int32 id = 1;
}
`);

describe('regenerating a proto keeps what deployed clients rely on', () => {
  it('keeps numbers across an added, a removed, a reordered and a renamed field, and an added and a removed enum value', async () => {
    // The code now has price (new), name, id and colour in another order, a renamed note
    // (remark), no note, and GREEN instead of BLUE.
    const generated = shop(`
service ItemController {
    rpc List(ItemListRequest) returns (stream Item) {}
    rpc Retrieve(ItemRetrieveRequest) returns (Item) {}
    rpc Create(Item) returns (Item) {}
}
message Item {
    string price = 1;
    // The generator's own comment.
    string name = 2;
    int32 id = 3;
    ItemColor color = 4;
    string remark = 5;
}
enum ItemColor {
    ITEM_COLOR_UNSPECIFIED = 0;
    ITEM_COLOR_RED = 1;
    ITEM_COLOR_GREEN = 2;
}
message ItemListRequest {
}
message ItemRetrieveRequest {
    int32 id = 1;
}
`);
    const { text, breaking } = regenerate(V1, generated);
    expect(breaking).toEqual([]);
    expect(text).toBe(
      shop(`
service ItemController {
    // Every item.
    rpc List(ItemListRequest) returns (stream Item) {}
    rpc Retrieve(ItemRetrieveRequest) returns (Item) {
        option deprecated = true;
    }
    rpc Create(Item) returns (Item) {}
}

// An item on sale.
message Item {
    int32 id = 1;
    // Shown to customers.
    string name = 2;
    ItemColor color = 4;
    string price = 5;
    string remark = 6;
    reserved 3;
    reserved "note";
}

enum ItemColor {
    ITEM_COLOR_UNSPECIFIED = 0;
    ITEM_COLOR_RED = 1;
    ITEM_COLOR_GREEN = 3;
    reserved 2;
    reserved "ITEM_COLOR_BLUE";
}

message ItemListRequest {
}

message ItemRetrieveRequest {
    int32 id = 1;
}
`),
    );
    await expect(bufBreaking(V1, text)).resolves.toBe('');

    // A regeneration of the same code changes nothing; one that brings `note` back gives it a
    // new number (3 stays reserved) and takes its name off the reserved list, which JSON clients
    // may still send: breaking, as buf says too.
    expect(regenerate(text, generated).text).toBe(text);
    const noteAgain = regenerate(text, generated.replace('    string remark = 5;', '    string remark = 5;\n    string note = 6;'));
    expect(noteAgain.text).toContain('    string remark = 6;\n    string note = 7;\n    reserved 3;\n}');
    expect(noteAgain.breaking).toEqual([
      'shop.proto: message Item field note comes back as number 7, but the name is reserved (an earlier field).',
    ]);
    await expect(bufBreaking(text, noteAgain.text)).resolves.toContain(
      'Previously present reserved name "note" on message "Item" was deleted.',
    );
  });

  it('reports a type change, a field becoming repeated, a removed rpc and a changed rpc, as buf breaking does', async () => {
    const generated = shop(`
service ItemController {
    rpc List(ItemListRequest) returns (Item) {}
}
message Item {
    int32 id = 1;
    int64 name = 2;
    string note = 3;
    repeated ItemColor color = 4;
}
enum ItemColor {
    ITEM_COLOR_UNSPECIFIED = 0;
    ITEM_COLOR_RED = 1;
    ITEM_COLOR_BLUE = 2;
}
message ItemListRequest {
}
`);
    const { text, breaking } = regenerate(V1, generated);
    expect(breaking).toEqual([
      'shop.proto: rpc ItemController.Retrieve is removed.',
      'shop.proto: rpc ItemController.List changes from (ItemListRequest) returns (stream Item) to (ItemListRequest) returns (Item).',
      'shop.proto: message Item field name = 2 changes type from string to int64.',
      'shop.proto: message Item field color = 4 becomes repeated.',
    ]);
    const found = await bufBreaking(V1, text);
    expect(found).toContain('Previously present RPC "Retrieve" on service "ItemController" was deleted.');
    expect(found).toContain('changed type from "string" to "int64"');
    expect(found).toContain('RPC "List" on service "ItemController" changed from server streaming to server unary.');
    expect(found).toContain('changed cardinality from "optional with implicit presence" to "repeated"');
  });

  it("keeps proto3 optional as the file has it, and writes the generator's comments only where the file has none", () => {
    const existing = shop(`
message Item {
    // Kept.
    optional string name = 1;
    string note = 2;
}
`);
    const generated = shop(`
message Item {
    // Replaced by the file's.
    string name = 1;
    // Filled in.
    optional string note = 2;
}
`);
    expect(regenerate(existing, generated).text).toBe(
      shop(`
message Item {
    // Kept.
    optional string name = 1;
    // Filled in.
    optional string note = 2;
}
`),
    );
  });
});

describe('reading a proto for regeneration', () => {
  it('writes back every sample proto byte for byte', () => {
    const dir = path.join(__dirname, '..', '..', 'sample', 'protos');
    for (const file of ['bookstore.proto', 'account.proto', 'blog_proto/post.proto', 'hrm.proto', 'snippets.proto']) {
      const text = fs.readFileSync(path.join(dir, file), 'utf8');
      expect(writeProtoFile(readProtoFile(file, text))).toBe(text);
    }
  });

  it('keeps file, message, field and enum value options through a regeneration', () => {
    const existing = shop(`
message Item {
    option deprecated = true;
    string name = 1 [deprecated = true, json_name = "title"];
    int32 old = 2;
}

enum ItemColor {
    ITEM_COLOR_UNSPECIFIED = 0;
    ITEM_COLOR_RED = 1 [deprecated = true];
}
`).replace('package shop;\n', 'package shop;\n\noption go_package = "example.com/shop";\noption java_multiple_files = true;\n');
    expect(writeProtoFile(readProtoFile('shop.proto', existing))).toBe(existing);
    const generated = shop(`
message Item {
    string name = 1;
    int32 old = 2;
}

enum ItemColor {
    ITEM_COLOR_UNSPECIFIED = 0;
    ITEM_COLOR_RED = 1;
}
`);
    expect(regenerate(existing, generated).text).toBe(existing);
  });

  it('refuses two fields with one number, a field on a reserved number, and nested messages, naming them', () => {
    expect(() => readProtoFile('a.proto', shop('message Item {\n    int32 id = 1;\n    string name = 1;\n}'))).toThrow(
      'a.proto: message Item: fields id and name both have number 1; give one a free number.',
    );
    expect(() => readProtoFile('a.proto', shop('message Item {\n    int32 id = 1;\n    reserved 1;\n}'))).toThrow(
      'a.proto: message Item: field id = 1 uses a reserved number.',
    );
    expect(() => readProtoFile('a.proto', shop('message Item {\n    message Part {\n    }\n    Part part = 1;\n}'))).toThrow(
      'a.proto: message Item declares Part inside it; generation writes top-level messages only.',
    );
  });
});
