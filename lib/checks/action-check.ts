import * as protobuf from 'protobufjs';
import { ActionDeclaration, ActionFields, ActionMessage, actionMessageKind } from '../decorators/grpc-action.decorator';
import type { RpcDefinition, ServiceDefinition } from '../proto/proto-registry';
import type { ProtoSerializerClass } from '../serializers/proto-serializer';
import { checkSerializerFields } from './serializer-proto-check';

/**
 * Checks a service's custom actions against its proto service: each is an rpc of that name,
 * streaming as declared, receiving and answering the messages it declares, and none takes the
 * name of an rpc the class already serves (a mixin's `Create`, say).
 */
export function checkActions(
  className: string,
  actions: ReadonlyMap<string, ActionDeclaration>,
  definition: ServiceDefinition,
  problems: string[],
): void {
  for (const action of actions.values()) {
    const where = `${className}.${action.name} (@GrpcAction, ${definition.name}${definition.file ? ` in ${definition.file}` : ''})`;
    const inherited = inheritedMethodOwner(action);
    if (inherited) {
      problems.push(
        `${where}: ${action.name} is already an rpc handler of ${inherited}; an action declares a new rpc. ` +
          `Name the action otherwise, or override ${action.name} without @GrpcAction.`,
      );
      continue;
    }
    const unset = (['request', 'response'] as const).filter((side) => side in action && action[side] === undefined);
    if (unset.length) {
      problems.push(
        `${where}: ${unset.join(' and ')} ${unset.length > 1 ? 'are' : 'is'} undefined, as an import cycle leaves a class it names: ` +
          'import the serializer from a module that does not import this one, or leave the option out for google.protobuf.Empty.',
      );
      continue;
    }
    const rpc = definition.rpcs.find((candidate) => candidate.name === action.name);
    if (!rpc) {
      problems.push(
        `${where}: the proto service has no rpc ${action.name}. Add \`${rpcLine(action)}\` to service ` +
          `${definition.name.split('.').pop()}, or generate the protos from the application (grpc-framework generateproto --module).`,
      );
      continue;
    }
    for (const side of ['request', 'response'] as const) {
      const streams = side === 'request' ? rpc.requestStream : rpc.responseStream;
      const declared = (side === 'request' ? action.requestStream : action.responseStream) ?? false;
      if (streams !== declared) {
        problems.push(
          `${where}: the rpc's ${side} ${streams ? 'is' : 'is not'} a stream, but the action says ${side}Stream: ${declared}. ` +
            `Make them agree (\`${rpcLine(action)}\`).`,
        );
      }
      checkSide(where, side, action[side], rpc, problems);
    }
  }
}

/** One side of an action against the rpc's message. */
function checkSide(
  where: string,
  side: 'request' | 'response',
  declared: ActionMessage | undefined,
  rpc: RpcDefinition,
  problems: string[],
): void {
  const message = rpc[side].type;
  const kind = actionMessageKind(declared);
  if (kind.kind === 'serializer') {
    checkSerializerFields(
      where,
      kind.serializer.name,
      kind.serializer.spec(),
      message,
      problems,
      side === 'request' ? 'writable' : 'readable',
    );
  } else if (kind.kind === 'message') {
    if (!namesType(kind.name, message)) {
      problems.push(`${where}: the action's ${side} is ${kind.name}, but the rpc's is ${message.fullName.slice(1)}. Make them agree.`);
    }
  } else {
    checkInlineFields(where, side, kind.fields, message, problems);
  }
}

/** Inline fields against the rpc's message: each declared there with its label and type. */
function checkInlineFields(where: string, side: string, fields: ActionFields, message: protobuf.Type, problems: string[]): void {
  for (const [name, declaration] of Object.entries(fields)) {
    const { label, type } = parseFieldType(declaration);
    const field = message.fields[name];
    const found = field && `${field.repeated ? 'repeated ' : field.options?.proto3_optional ? 'optional ' : ''}${field.type}`;
    if (!field) {
      problems.push(`${where}: the ${side} field "${name}" (${declaration}) is not in message ${message.fullName.slice(1)}. Add it there.`);
    } else if ((label === 'repeated') !== field.repeated || !sameType(type, field)) {
      problems.push(`${where}: the ${side} field "${name}" is ${declaration} in the action but ${found} in ${message.fullName.slice(1)}.`);
    }
  }
}

/** `'optional string'` -> `{ label: 'optional', type: 'string' }`. */
export function parseFieldType(declaration: string): { label: '' | 'optional' | 'repeated'; type: string } {
  const [first, second] = declaration.trim().split(/\s+/);
  if ((first === 'optional' || first === 'repeated') && second) return { label: first, type: second };
  return { label: '', type: first };
}

function sameType(type: string, field: protobuf.Field): boolean {
  field.resolve();
  return field.resolvedType ? namesType(type, field.resolvedType) : field.type === type;
}

/** `name` is the type's full name, or its name within its package. */
function namesType(name: string, type: protobuf.ReflectionObject): boolean {
  const full = type.fullName.slice(1);
  return full === name || full.endsWith(`.${name}`);
}

/** The class above the action's own that already has a method of its name, if any. */
function inheritedMethodOwner(action: ActionDeclaration): string | undefined {
  for (
    let proto = Object.getPrototypeOf(action.declaredOn.prototype);
    proto && proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto)
  ) {
    if (Object.prototype.hasOwnProperty.call(proto, action.name)) return (proto.constructor as Function).name;
  }
  return undefined;
}

/** The rpc an action declares, as a .proto line. */
export function rpcLine(action: ActionDeclaration): string {
  const request = `${action.requestStream ? 'stream ' : ''}${actionMessageName(action, 'request')}`;
  const response = `${action.responseStream ? 'stream ' : ''}${actionMessageName(action, 'response')}`;
  return `rpc ${action.name}(${request}) returns (${response});`;
}

/** The message name of one side: a serializer's model, a named message, or `<Action>Request`/`<Action>Response` for inline fields. */
export function actionMessageName(action: ActionDeclaration, side: 'request' | 'response'): string {
  const kind = actionMessageKind(action[side]);
  if (kind.kind === 'message') return kind.name;
  if (kind.kind === 'serializer') return serializerMessageName(kind.serializer);
  return `${action.name}${side === 'request' ? 'Request' : 'Response'}`;
}

/** A serializer's message: its entity's name, else its own without `Serializer`. */
export function serializerMessageName(Serializer: ProtoSerializerClass): string {
  const entity = (Serializer as { entity?: { name: string } }).entity;
  return entity?.name ?? Serializer.name.replace(/Serializer$/, '');
}
