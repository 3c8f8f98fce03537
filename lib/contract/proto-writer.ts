import type { EnumModel, FieldModel, MessageModel, ProtoFileModel, Reserved, RpcModel, ServiceModel } from './proto-model';

const INDENT = '    ';

/** The file each well-known type is declared in. */
const WELL_KNOWN_FILES: Readonly<Record<string, string>> = {
  'google.protobuf.Any': 'google/protobuf/any.proto',
  'google.protobuf.Duration': 'google/protobuf/duration.proto',
  'google.protobuf.Empty': 'google/protobuf/empty.proto',
  'google.protobuf.FieldMask': 'google/protobuf/field_mask.proto',
  'google.protobuf.ListValue': 'google/protobuf/struct.proto',
  'google.protobuf.NullValue': 'google/protobuf/struct.proto',
  'google.protobuf.Struct': 'google/protobuf/struct.proto',
  'google.protobuf.Value': 'google/protobuf/struct.proto',
  'google.protobuf.Timestamp': 'google/protobuf/timestamp.proto',
};

/** The import a type name needs, if it is a well-known type. */
export function importOfType(type: string): string | undefined {
  const known = WELL_KNOWN_FILES[type];
  if (known) return known;
  return type.startsWith('google.protobuf.') && type.endsWith('Value') ? 'google/protobuf/wrappers.proto' : undefined;
}

/** Writes a file in the layout the generator has always used: four-space indents, a blank line between blocks. */
export function writeProtoFile(file: ProtoFileModel): string {
  const lines = [...(file.header ?? []), 'syntax = "proto3";', '', `package ${file.package};`, ''];
  if (file.options?.length) lines.push(...file.options.map((option) => `option ${option};`), '');
  const imports = importsOf(file);
  if (imports.length) lines.push(...imports.map((name) => `import "${name}";`), '');
  for (const service of file.services) lines.push(...serviceLines(service), '');
  for (const type of file.types) lines.push(...(type.kind === 'message' ? messageLines(type) : enumLines(type)), '');
  return lines.join('\n');
}

/** Every import the file's types and options need, and those it declares, sorted. */
function importsOf(file: ProtoFileModel): string[] {
  const imports = new Set(file.imports ?? []);
  const use = (type: string) => {
    const found = importOfType(type);
    if (found) imports.add(found);
  };
  for (const service of file.services) {
    for (const rpc of service.rpcs) {
      use(rpc.request);
      use(rpc.response);
      if (rpc.body?.some((line) => line.includes('(google.api.http)'))) imports.add('google/api/annotations.proto');
    }
  }
  for (const type of file.types) if (type.kind === 'message') for (const field of type.fields) use(field.type);
  return [...imports].sort();
}

function commentLines(comment: string | undefined, indent: string): string[] {
  if (!comment) return [];
  return comment.split('\n').map((line) => (line ? `${indent}// ${line}` : `${indent}//`));
}

function serviceLines(service: ServiceModel): string[] {
  return [...commentLines(service.comment, ''), `service ${service.name} {`, ...service.rpcs.flatMap(rpcLines), '}'];
}

function rpcLines(rpc: RpcModel): string[] {
  const signature =
    `${INDENT}rpc ${rpc.name}(${rpc.requestStream ? 'stream ' : ''}${rpc.request}) ` +
    `returns (${rpc.responseStream ? 'stream ' : ''}${rpc.response})`;
  const body = rpc.body?.length
    ? [`${signature} {`, ...rpc.body.map((line) => (line ? `${INDENT}${line}` : '')), `${INDENT}}`]
    : [`${signature} {}`];
  return [...commentLines(rpc.comment, INDENT), ...body];
}

function messageLines(message: MessageModel): string[] {
  const lines = [
    ...commentLines(message.comment, ''),
    `message ${message.name} {`,
    ...(message.options ?? []).map((option) => `${INDENT}option ${option};`),
  ];
  const written = new Set<string>();
  for (const field of message.fields) {
    if (!field.oneof) {
      lines.push(...fieldLines(field, INDENT));
    } else if (!written.has(field.oneof)) {
      written.add(field.oneof);
      lines.push(`${INDENT}oneof ${field.oneof} {`);
      for (const member of message.fields.filter((other) => other.oneof === field.oneof))
        lines.push(...fieldLines(member, INDENT + INDENT));
      lines.push(`${INDENT}}`);
    }
  }
  lines.push(...reservedLines(message.reserved), '}');
  return lines;
}

function fieldLines(field: FieldModel, indent: string): string[] {
  const label = field.label ? `${field.label} ` : '';
  const options = field.options ? ` [${field.options}]` : '';
  return [...commentLines(field.comment, indent), `${indent}${label}${field.type} ${field.name} = ${field.number}${options};`];
}

function enumLines(type: EnumModel): string[] {
  return [
    ...commentLines(type.comment, ''),
    `enum ${type.name} {`,
    ...type.values.flatMap((value) => [
      ...commentLines(value.comment, INDENT),
      `${INDENT}${value.name} = ${value.number}${value.options ? ` [${value.options}]` : ''};`,
    ]),
    ...reservedLines(type.reserved),
    '}',
  ];
}

/** `reserved 4, 6 to 8;` and `reserved "old", "older";`. */
function reservedLines(reserved: Reserved | undefined): string[] {
  if (!reserved) return [];
  const lines: string[] = [];
  if (reserved.numbers.length) lines.push(`${INDENT}reserved ${ranges(reserved.numbers).join(', ')};`);
  if (reserved.names.length) lines.push(`${INDENT}reserved ${reserved.names.map((name) => `"${name}"`).join(', ')};`);
  return lines;
}

function ranges(numbers: readonly number[]): string[] {
  const sorted = [...new Set(numbers)].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < sorted.length; i++) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    out.push(j > i ? `${sorted[i]} to ${sorted[j]}` : `${sorted[i]}`);
    i = j;
  }
  return out;
}
