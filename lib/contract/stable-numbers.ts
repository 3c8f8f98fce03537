import type { EnumModel, FieldModel, MessageModel, ProtoFileModel, Reserved, RpcModel, ServiceModel, TypeModel } from './proto-model';

/** The generated file merged into the one on disk, and what in it would break a deployed client. */
export interface MergedFile {
  file: ProtoFileModel;
  /** One line per change that breaks wire or JSON compatibility, naming the file, the message or rpc, and the field. */
  breaking: string[];
}

/**
 * Merges a generated file into the existing one so that what deployed clients rely on stays:
 * every field and enum value keeps its number and name, new ones take the next free numbers
 * (never a reserved one), removed ones become `reserved` (number and name). Services, rpcs,
 * messages and fields keep their order; new ones come after what precedes them in the
 * generated file (new fields last). What the file says beyond the generator is kept: comments
 * (the generator's fill in where there are none), rpc, file, message and field options, and a
 * field's `optional` (which changes neither the wire nor JSON; the generator may add it). A
 * type or cardinality change, a removed or changed rpc, a removed service or a reserved name
 * given back is reported as breaking.
 */
export function mergeIntoExisting(generated: ProtoFileModel, existing: ProtoFileModel | undefined): MergedFile {
  if (!existing) return { file: generated, breaking: [] };
  const breaking: string[] = [];
  const at = existing.path;
  const services = ordered(existing.services, generated.services, (old, next) => mergeService(at, old, next, breaking));
  for (const service of existing.services) {
    if (!generated.services.some((s) => s.name === service.name)) {
      breaking.push(`${at}: service ${service.name} is removed (its rpcs: ${service.rpcs.map((r) => r.name).join(', ') || 'none'}).`);
    }
  }
  const types = ordered(existing.types, generated.types, (old, next) => mergeType(at, old, next, breaking));
  // Imports the file declares beyond the well-known ones stay: they name other packages' files.
  const imports = (existing.imports ?? []).filter((name) => !name.startsWith('google/'));
  return {
    file: {
      ...generated,
      path: existing.path,
      header: existing.header,
      options: existing.options ?? generated.options,
      services,
      types,
      imports,
    },
    breaking,
  };
}

/**
 * The items of `next`: those also in `old` in old's order (merged), each new one placed after
 * the item `next` has before it (a new PartialUpdate after Update), so a regeneration moves nothing.
 */
function ordered<T extends { name: string }>(old: readonly T[], next: readonly T[], merge: (old: T, next: T) => T): T[] {
  const byName = new Map(next.map((item) => [item.name, item]));
  const result = old.filter((item) => byName.has(item.name)).map((item) => merge(item, byName.get(item.name)!));
  const oldNames = new Set(old.map((item) => item.name));
  next.forEach((item, i) => {
    if (oldNames.has(item.name)) return;
    const after = i === 0 ? -1 : result.findIndex((placed) => placed.name === next[i - 1].name);
    result.splice(after + 1, 0, item);
  });
  return result;
}

function mergeService(at: string, old: ServiceModel, next: ServiceModel, breaking: string[]): ServiceModel {
  for (const rpc of old.rpcs) {
    if (!next.rpcs.some((r) => r.name === rpc.name)) breaking.push(`${at}: rpc ${old.name}.${rpc.name} is removed.`);
  }
  const rpcs = ordered(old.rpcs, next.rpcs, (was, now) => mergeRpc(at, old.name, was, now, breaking));
  return { ...next, comment: old.comment ?? next.comment, rpcs };
}

function mergeRpc(at: string, service: string, old: RpcModel, next: RpcModel, breaking: string[]): RpcModel {
  const signature = (rpc: RpcModel) =>
    `(${rpc.requestStream ? 'stream ' : ''}${rpc.request}) returns (${rpc.responseStream ? 'stream ' : ''}${rpc.response})`;
  if (signature(old) !== signature(next)) {
    breaking.push(`${at}: rpc ${service}.${old.name} changes from ${signature(old)} to ${signature(next)}.`);
  }
  return { ...next, comment: old.comment ?? next.comment, body: next.body ?? old.body };
}

function mergeType(at: string, old: TypeModel, next: TypeModel, breaking: string[]): TypeModel {
  if (old.kind !== next.kind) {
    breaking.push(
      `${at}: ${old.name} changes from ${old.kind === 'message' ? 'a message' : 'an enum'} to ${next.kind === 'message' ? 'a message' : 'an enum'}.`,
    );
    return next;
  }
  return old.kind === 'message' ? mergeMessage(at, old, next as MessageModel, breaking) : mergeEnum(old, next as EnumModel);
}

function mergeMessage(at: string, old: MessageModel, next: MessageModel, breaking: string[]): MessageModel {
  const reserved = copyReserved(old.reserved);
  const oldFields = new Map(old.fields.map((field) => [field.name, field]));
  const nextNames = new Set(next.fields.map((field) => field.name));
  let free = Math.max(0, ...old.fields.map((f) => f.number), ...reserved.numbers) + 1;
  const fields: FieldModel[] = [];
  for (const field of old.fields) {
    if (!nextNames.has(field.name)) continue;
    const now = next.fields.find((f) => f.name === field.name)!;
    const change = fieldChange(field, now);
    if (change) breaking.push(`${at}: message ${old.name} field ${field.name} = ${field.number} ${change}.`);
    // `optional`, once written, stays (presence changes neither the wire nor JSON), and the generator may add it.
    const label = !change && now.label !== 'repeated' && (field.label === 'optional' || now.label === 'optional') ? 'optional' : now.label;
    fields.push({ ...now, label, number: field.number, comment: field.comment ?? now.comment, options: field.options ?? now.options });
  }
  for (const field of next.fields) {
    if (oldFields.has(field.name)) continue;
    const number = free++;
    if (reserved.names.includes(field.name)) {
      // A name given back takes a new number (its old one stays reserved): JSON clients that still send it would set the new field.
      reserved.names = reserved.names.filter((name) => name !== field.name);
      breaking.push(
        `${at}: message ${old.name} field ${field.name} comes back as number ${number}, but the name is reserved (an earlier field).`,
      );
    }
    fields.push({ ...field, number });
  }
  for (const field of old.fields) {
    if (nextNames.has(field.name)) continue;
    reserved.numbers.push(field.number);
    reserved.names.push(field.name);
  }
  return { ...next, comment: old.comment ?? next.comment, options: old.options ?? next.options, fields, ...reservedIfAny(reserved) };
}

/** How a field's type changes in a way old clients would misread, if it does. */
function fieldChange(old: FieldModel, next: FieldModel): string | undefined {
  if (old.type !== next.type) return `changes type from ${old.type} to ${next.type}`;
  if ((old.label === 'repeated') !== (next.label === 'repeated'))
    return old.label === 'repeated' ? 'is no longer repeated' : 'becomes repeated';
  if ((old.oneof ?? '') !== (next.oneof ?? '')) return next.oneof ? `moves into oneof ${next.oneof}` : `leaves oneof ${old.oneof}`;
  return undefined;
}

function mergeEnum(old: EnumModel, next: EnumModel): EnumModel {
  const reserved = copyReserved(old.reserved);
  const oldValues = new Map(old.values.map((value) => [value.name, value]));
  const nextNames = new Set(next.values.map((value) => value.name));
  let free = Math.max(0, ...old.values.map((v) => v.number), ...reserved.numbers) + 1;
  const values = [
    ...old.values
      .filter((value) => nextNames.has(value.name))
      .map((value) => ({ ...value, comment: value.comment ?? next.values.find((v) => v.name === value.name)?.comment })),
    ...next.values.filter((value) => !oldValues.has(value.name)).map((value) => ({ ...value, number: free++ })),
  ];
  for (const value of old.values) {
    if (nextNames.has(value.name)) continue;
    reserved.numbers.push(value.number);
    reserved.names.push(value.name);
  }
  return { ...next, comment: old.comment ?? next.comment, values, ...reservedIfAny(reserved) };
}

function copyReserved(reserved: Reserved | undefined): Reserved {
  return { numbers: [...(reserved?.numbers ?? [])], names: [...(reserved?.names ?? [])] };
}

function reservedIfAny(reserved: Reserved): { reserved?: Reserved } {
  return reserved.numbers.length || reserved.names.length ? { reserved } : {};
}
