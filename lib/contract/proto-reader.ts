import * as protobuf from 'protobufjs';
import type { EnumModel, FieldModel, MessageModel, ProtoFileModel, Reserved, RpcModel, ServiceModel, TypeModel } from './proto-model';

/** The comment that marks a file written by hand: `generateproto --module` checks it instead of writing it. */
export const HAND_WRITTEN_MARKER = '// grpc-framework: hand-written';

/** A file generation cannot read or merge: names the file and what is wrong in it. */
export class ProtoFileError extends Error {}

/**
 * Reads a .proto file into the generator's model: services with their rpcs' option bodies as
 * written, messages with their field numbers, oneofs and reserved ranges, enums, comments and
 * the lines above `syntax`. Refuses what the generator cannot keep (nested types, two fields
 * with one number), naming the file, message and field.
 */
export function readProtoFile(path: string, source: string): ProtoFileModel {
  let parsed: protobuf.IParserResult;
  try {
    parsed = protobuf.parse(source, { keepCase: true, alternateCommentMode: true });
  } catch (error) {
    throw new ProtoFileError(`${path}: ${duplicateNumber(source, (error as Error).message) ?? (error as Error).message}`);
  }
  const pkg = parsed.package ?? '';
  const namespace = pkg ? parsed.root.lookup(pkg) : parsed.root;
  const services: ServiceModel[] = [];
  const types: TypeModel[] = [];
  for (const nested of (namespace as protobuf.Namespace | null)?.nestedArray ?? []) {
    if (nested instanceof protobuf.Service) services.push(serviceOf(nested, source));
    else if (nested instanceof protobuf.Type) types.push(messageOf(path, nested));
    else if (nested instanceof protobuf.Enum) types.push(enumOf(nested));
  }
  const syntaxAt = source.search(/^[ \t]*syntax\s*=/m);
  const header = syntaxAt > 0 ? source.slice(0, syntaxAt).replace(/\n$/, '').split('\n') : undefined;
  const options = optionEntries((namespace as protobuf.Namespace | null)?.options);
  return {
    path,
    package: pkg,
    header,
    services,
    types,
    imports: [...(parsed.imports ?? []), ...(parsed.weakImports ?? [])],
    ...(options.length ? { options } : {}),
  };
}

/** Whether a file carries the hand-written marker above `syntax`. */
export function isHandWritten(file: ProtoFileModel): boolean {
  return (file.header ?? []).some((line) => line.trim().startsWith(HAND_WRITTEN_MARKER));
}

function serviceOf(service: protobuf.Service, source: string): ServiceModel {
  const bodies = rpcBodies(source, service.name);
  return {
    name: service.name,
    ...(service.comment ? { comment: service.comment } : {}),
    rpcs: service.methodsArray.map((method): RpcModel => ({
      name: method.name,
      request: method.requestType,
      requestStream: !!method.requestStream,
      response: method.responseType,
      responseStream: !!method.responseStream,
      ...(method.comment ? { comment: method.comment } : {}),
      ...(bodies.get(method.name)?.length ? { body: bodies.get(method.name) } : {}),
    })),
  };
}

function messageOf(path: string, type: protobuf.Type): MessageModel {
  if (type.nestedArray.length) {
    throw new ProtoFileError(
      `${path}: message ${type.name} declares ${type.nestedArray.map((n) => n.name).join(', ')} inside it; generation writes top-level ` +
        `messages only. Move them to the top level, or mark the file hand-written (${HAND_WRITTEN_MARKER}).`,
    );
  }
  const byNumber = new Map<number, string>();
  const fields = type.fieldsArray.map((field): FieldModel => {
    const other = byNumber.get(field.id);
    if (other)
      throw new ProtoFileError(
        `${path}: message ${type.name}: fields ${other} and ${field.name} both have number ${field.id}; give one a free number.`,
      );
    byNumber.set(field.id, field.name);
    const oneof = field.partOf && !field.options?.proto3_optional ? field.partOf.name : undefined;
    return {
      name: field.name,
      type: field.map ? `map<${(field as unknown as protobuf.MapField).keyType}, ${field.type}>` : field.type,
      label: field.repeated ? 'repeated' : field.options?.proto3_optional ? 'optional' : '',
      number: field.id,
      ...(field.comment ? { comment: field.comment } : {}),
      ...(oneof ? { oneof } : {}),
      ...optionsText(field.options),
    };
  });
  const reserved = reservedOf(type.reserved);
  for (const field of fields) {
    if (reserved?.numbers.includes(field.number) || reserved?.names.includes(field.name)) {
      throw new ProtoFileError(
        `${path}: message ${type.name}: field ${field.name} = ${field.number} uses a reserved ${reserved.names.includes(field.name) ? 'name' : 'number'}.`,
      );
    }
  }
  const options = optionEntries(type.options);
  return {
    kind: 'message',
    name: type.name,
    ...(type.comment ? { comment: type.comment } : {}),
    ...(options.length ? { options } : {}),
    fields,
    ...(reserved ? { reserved } : {}),
  };
}

function enumOf(type: protobuf.Enum): EnumModel {
  const reserved = reservedOf(type.reserved);
  return {
    kind: 'enum',
    name: type.name,
    ...(type.comment ? { comment: type.comment } : {}),
    values: Object.entries(type.values).map(([name, number]) => ({
      name,
      number,
      ...(type.comments[name] ? { comment: type.comments[name] } : {}),
      ...optionsText((type as { valuesOptions?: Record<string, Record<string, unknown>> }).valuesOptions?.[name]),
    })),
    ...(reserved ? { reserved } : {}),
  };
}

/** Options as written: `go_package = "x/y"`, `deprecated = true`, `(my.rule) = { min: 1 }`; proto3's own `optional` marker left out. */
function optionEntries(options: Record<string, unknown> | undefined): string[] {
  return Object.entries(options ?? {})
    .filter(([name]) => name !== 'proto3_optional')
    .map(
      ([name, value]) => `${/^[a-z_][a-z0-9_]*$/i.test(name) || name.startsWith('(') ? name : `(${name})`} = ${optionValue(name, value)}`,
    );
}

function optionsText(options: Record<string, unknown> | undefined): { options?: string } {
  const entries = optionEntries(options);
  return entries.length ? { options: entries.join(', ') } : {};
}

/** Enum-valued options protobufjs keeps as strings: their values are written bare. */
const ENUM_OPTIONS = new Set(['optimize_for', 'ctype', 'jstype', 'idempotency_level', 'retention']);

function optionValue(name: string, value: unknown): string {
  if (typeof value === 'string') return ENUM_OPTIONS.has(name) ? value : JSON.stringify(value);
  if (value && typeof value === 'object') {
    return `{ ${Object.entries(value as Record<string, unknown>)
      .flatMap(([key, inner]) => (Array.isArray(inner) ? inner : [inner]).map((item) => `${key}: ${optionValue(key, item)}`))
      .join(' ')} }`;
  }
  return String(value);
}

function reservedOf(reserved: (number[] | string)[] | undefined): Reserved | undefined {
  if (!reserved?.length) return undefined;
  const numbers: number[] = [];
  const names: string[] = [];
  for (const entry of reserved) {
    if (typeof entry === 'string') names.push(entry);
    else for (let n = entry[0]; n <= Math.min(entry[1], entry[0] + 10_000); n++) numbers.push(n);
  }
  return { numbers, names };
}

/**
 * The lines inside each rpc's braces in one service, as written (options and their comments),
 * dedented and indented one level: protobufjs keeps options as values only.
 */
function rpcBodies(source: string, serviceName: string): Map<string, string[]> {
  const bodies = new Map<string, string[]>();
  const code = blankedCommentsAndStrings(source);
  const start = new RegExp(`\\bservice\\s+${serviceName}\\s*\\{`).exec(code);
  if (!start) return bodies;
  const end = closingBrace(code, start.index + start[0].length - 1);
  const rpc = /\brpc\s+(\w+)\s*\([^)]*\)\s*returns\s*\([^)]*\)\s*(\{|;)/g;
  rpc.lastIndex = start.index + start[0].length;
  for (let match = rpc.exec(code); match && match.index < end; match = rpc.exec(code)) {
    if (match[2] !== '{') continue;
    const open = match.index + match[0].length - 1;
    const close = closingBrace(code, open);
    bodies.set(match[1], bodyLines(source.slice(open + 1, close)));
    rpc.lastIndex = close;
  }
  return bodies;
}

function bodyLines(text: string): string[] {
  const lines = text.split('\n').map((line) => line.replace(/\s+$/, ''));
  while (lines.length && !lines[0].trim()) lines.shift();
  while (lines.length && !lines[lines.length - 1].trim()) lines.pop();
  const indent = Math.min(...lines.filter((line) => line.trim()).map((line) => /^\s*/.exec(line)![0].length));
  return lines.map((line) => (line.trim() ? `    ${line.slice(indent)}` : ''));
}

/** protobufjs's "duplicate id 2 in Type Item" with the fields named, as the generator reports it. */
function duplicateNumber(source: string, message: string): string | undefined {
  const found = /duplicate id (\d+) in Type (\w+)/.exec(message);
  if (!found) return undefined;
  const [, number, type] = found;
  const code = blankedCommentsAndStrings(source);
  const start = new RegExp(`\\bmessage\\s+${type}\\s*\\{`).exec(code);
  const block = start ? code.slice(start.index, closingBrace(code, start.index + start[0].length - 1)) : '';
  const names = [...block.matchAll(new RegExp(`(\\w+)\\s*=\\s*${number}\\s*[;\\[]`, 'g'))].map((m) => m[1]);
  return `message ${type}: fields ${names.join(' and ')} both have number ${number}; give one a free number.`;
}

/** The index of the brace closing the one at `open`. */
function closingBrace(code: string, open: number): number {
  let depth = 0;
  for (let i = open; i < code.length; i++) {
    if (code[i] === '{') depth++;
    else if (code[i] === '}' && --depth === 0) return i;
  }
  return code.length;
}

/** The source with comments and string contents blanked (same length), so braces in them are not counted. */
function blankedCommentsAndStrings(source: string): string {
  return source.replace(/\/\/[^\n]*|\/\*[\s\S]*?\*\/|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'/g, (text) => text.replace(/[^\n]/g, ' '));
}
