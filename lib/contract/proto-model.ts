/**
 * A .proto file as the generator builds, merges and writes it: what a service declares, in
 * order, with comments and field numbers. Plain data, so a generated file and one read from
 * disk compare field by field.
 */
export interface ProtoFileModel {
  /** Where it is written, relative to the working directory. */
  path: string;
  package: string;
  /** Lines kept above `syntax` (a licence, the hand-written marker), without their line breaks. */
  header?: string[];
  services: ServiceModel[];
  /** Messages and enums, in the order they are written. */
  types: TypeModel[];
  /** Further imports than the types used need (a file read from disk keeps its own). */
  imports?: string[];
  /** File options as written after `package` (`go_package = "..."`), without `option` and `;`. */
  options?: string[];
}

export interface ServiceModel {
  name: string;
  comment?: string;
  rpcs: RpcModel[];
}

export interface RpcModel {
  name: string;
  request: string;
  requestStream: boolean;
  response: string;
  responseStream: boolean;
  comment?: string;
  /** The lines inside the rpc's braces (its options), as written; none: `{}`. */
  body?: string[];
}

export type TypeModel = MessageModel | EnumModel;

export interface MessageModel {
  kind: 'message';
  name: string;
  comment?: string;
  fields: FieldModel[];
  reserved?: Reserved;
  /** Message options (`deprecated = true`), without `option` and `;`. */
  options?: string[];
}

export type FieldLabel = '' | 'optional' | 'repeated';

export interface FieldModel {
  name: string;
  /** A scalar, or a message or enum name as written (`Author`, `google.protobuf.Timestamp`). */
  type: string;
  label: FieldLabel;
  number: number;
  comment?: string;
  /** The oneof it belongs to (the null pattern's `kind`). */
  oneof?: string;
  /** What goes between its brackets: `deprecated = true, json_name = "title"`. */
  options?: string;
}

export interface EnumModel {
  kind: 'enum';
  name: string;
  comment?: string;
  values: EnumValueModel[];
  reserved?: Reserved;
}

export interface EnumValueModel {
  name: string;
  number: number;
  comment?: string;
  /** What goes between its brackets. */
  options?: string;
}

/** Numbers and names a message or enum may not use again. */
export interface Reserved {
  numbers: number[];
  names: string[];
}

/** A field numbered 1..n in declaration order: what a new message gets. */
export function numbered(fields: readonly Omit<FieldModel, 'number'>[]): FieldModel[] {
  return fields.map((field, i) => ({ ...field, number: i + 1 }));
}
