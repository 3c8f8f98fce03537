// The parts of google/protobuf/descriptor.proto the framework writes, with the field names
// protobufjs's descriptor types use (lowerCamelCase) and enum values by name.

type FieldType =
  | 'TYPE_DOUBLE'
  | 'TYPE_FLOAT'
  | 'TYPE_INT64'
  | 'TYPE_UINT64'
  | 'TYPE_INT32'
  | 'TYPE_FIXED64'
  | 'TYPE_FIXED32'
  | 'TYPE_BOOL'
  | 'TYPE_STRING'
  | 'TYPE_GROUP'
  | 'TYPE_MESSAGE'
  | 'TYPE_BYTES'
  | 'TYPE_UINT32'
  | 'TYPE_ENUM'
  | 'TYPE_SFIXED32'
  | 'TYPE_SFIXED64'
  | 'TYPE_SINT32'
  | 'TYPE_SINT64';

interface Range {
  start: number;
  end: number;
}

export interface FieldDescriptorProto {
  name: string;
  jsonName: string;
  number: number;
  label: 'LABEL_OPTIONAL' | 'LABEL_REQUIRED' | 'LABEL_REPEATED';
  type?: FieldType;
  typeName?: string;
  extendee?: string;
  defaultValue?: string;
  oneofIndex?: number;
  proto3Optional?: boolean;
  options?: { deprecated?: boolean };
}

export interface DescriptorProto {
  name: string;
  field: FieldDescriptorProto[];
  nestedType?: DescriptorProto[];
  enumType?: EnumDescriptorProto[];
  extension?: FieldDescriptorProto[];
  oneofDecl?: { name: string }[];
  reservedRange?: Range[];
  reservedName?: string[];
  extensionRange?: Range[];
  options?: { mapEntry?: boolean };
}

export interface EnumDescriptorProto {
  name: string;
  value: { name: string; number: number }[];
  options?: { allowAlias?: boolean };
  reservedName: string[];
  reservedRange: Range[];
}

export interface MethodDescriptorProto {
  name: string;
  inputType: string;
  outputType: string;
  clientStreaming: boolean;
  serverStreaming: boolean;
  options?: { idempotencyLevel?: 'IDEMPOTENCY_UNKNOWN' | 'NO_SIDE_EFFECTS' | 'IDEMPOTENT' };
}

export interface ServiceDescriptorProto {
  name: string;
  method: MethodDescriptorProto[];
}

export interface FileDescriptorProto {
  name: string;
  package: string;
  dependency: string[];
  messageType: DescriptorProto[];
  enumType: EnumDescriptorProto[];
  service: ServiceDescriptorProto[];
  extension: FieldDescriptorProto[];
  syntax: string;
  edition?: 'EDITION_2023';
}
