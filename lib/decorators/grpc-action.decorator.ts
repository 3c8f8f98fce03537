import type { PermissionLike } from '../auth/permissions';
import type { HttpRoute } from '../interfaces/grpc-model-service-options.interface';
import type { ProtoSerializerClass } from '../serializers/proto-serializer';

/**
 * Inline fields of an action's message, by proto field name, in field-number order: a proto
 * type with an optional label, e.g. `{ id: 'int32', note: 'optional string', tags: 'repeated string' }`.
 */
export type ActionFields = Readonly<Record<string, string>>;

/**
 * One side of a custom action: a serializer (its fields make the message; a request is
 * validated with it, a response is serialized by it), a message's name (`'LoginResponse'`,
 * `'bookstore.LoginResponse'`, `'google.protobuf.Empty'`), or inline fields.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ActionMessage = ProtoSerializerClass<any> | string | ActionFields;

/** Options of `@GrpcAction`. */
export interface GrpcActionOptions {
  /**
   * What the rpc receives. With a serializer, the message is validated before the handler runs
   * (INVALID_ARGUMENT naming the fields) and the handler receives the validated data (with
   * `requestStream`, a stream of validated data); otherwise it receives the message.
   * @default 'google.protobuf.Empty'
   */
  request?: ActionMessage;
  /**
   * What the rpc answers. With a serializer, the handler returns objects (entities, or data by
   * property name) and the framework serializes them, nested objects and computed fields
   * included; otherwise it returns messages. @default 'google.protobuf.Empty'
   */
  response?: ActionMessage;
  /** The client sends a stream of messages. @default false */
  requestStream?: boolean;
  /** The server answers with a stream: the handler returns an async iterable (an `async *` method). @default false */
  responseStream?: boolean;
  /**
   * Who may call it, replacing the service's permissions for this action (as Django REST
   * framework's `@action(permission_classes=...)`). @default the service's: its entry for this
   * rpc's name when `permissions` is per action, else its `default`, else the module's
   */
  permissions?: readonly PermissionLike[];
  /**
   * Its HTTP route, written by `generateproto --module` as the rpc's `google.api.http` option
   * (AIP-136's custom methods: `{ post: '/v1/books/{id}:discount', body: '*' }`).
   */
  http?: HttpRoute;
}

/** A custom action as the framework reads it: the rpc's name (the method's) and its options. */
export interface ActionDeclaration extends GrpcActionOptions {
  readonly name: string;
  /** The class whose method carries the decorator. */
  readonly declaredOn: Function;
}

const ACTIONS = Symbol('grpc-framework:actions');

type WithActions = { [ACTIONS]?: Map<string, ActionDeclaration> };

/**
 * Declares a custom action: an rpc named after the method, next to the mixins' (Django REST
 * framework's `@action`, django-socio-grpc's `@grpc_action`):
 *
 * ```ts
 * @GrpcAction({ request: DiscountSerializer, response: BookSerializer, permissions: [IsStaff] })
 * async Discount({ percent }: { percent: number }): Promise<Book> { ... }
 * ```
 *
 * It is served like the mixins' rpcs, with the service's authenticators, guards and
 * interceptors, and checked at start-up against the proto's rpc of that name; `generateproto
 * --module` writes the rpc and its messages. A method named like an rpc without the decorator
 * is served too (it then receives and returns messages).
 *
 * @publicApi
 */
export function GrpcAction(options: GrpcActionOptions = {}): MethodDecorator {
  return (target, key) => {
    if (typeof key !== 'string') throw new TypeError('@GrpcAction() decorates methods with string names.');
    const owner = target as WithActions;
    // Each class keeps its own declarations; a subclass's are found by walking the prototypes.
    if (!Object.prototype.hasOwnProperty.call(owner, ACTIONS)) {
      Object.defineProperty(owner, ACTIONS, { value: new Map(), enumerable: false });
    }
    owner[ACTIONS]!.set(key, { ...options, name: key, declaredOn: target.constructor });
  };
}

/** The custom actions of a service class, by rpc name; a subclass's declaration wins over its base's. */
export function actionsOf(cls: Function): ReadonlyMap<string, ActionDeclaration> {
  const found = new Map<string, ActionDeclaration>();
  for (let proto = cls.prototype as WithActions | null; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    const own = Object.prototype.hasOwnProperty.call(proto, ACTIONS) ? proto[ACTIONS] : undefined;
    for (const [name, action] of own ?? []) if (!found.has(name)) found.set(name, action);
  }
  return found;
}

/** The kind of one side of an action. */
export type ActionMessageKind =
  { kind: 'serializer'; serializer: ProtoSerializerClass } | { kind: 'message'; name: string } | { kind: 'fields'; fields: ActionFields };

/** Which of the three an action's side is (`'google.protobuf.Empty'` when unset). */
export function actionMessageKind(message: ActionMessage | undefined): ActionMessageKind {
  if (message === undefined) return { kind: 'message', name: 'google.protobuf.Empty' };
  if (typeof message === 'function') return { kind: 'serializer', serializer: message };
  if (typeof message === 'string') return { kind: 'message', name: message };
  return { kind: 'fields', fields: message };
}
