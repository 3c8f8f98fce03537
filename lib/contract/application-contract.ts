import type { MetadataStorage } from '@mikro-orm/core';
import { actionMessageName, parseFieldType } from '../checks/action-check';
import { ActionDeclaration, actionMessageKind, actionsOf } from '../decorators/grpc-action.decorator';
import type { GrpcModelServiceOptions, HttpRoute } from '../interfaces/grpc-model-service-options.interface';
import { PROTO_SCALARS } from '../proto/scalar-types';
import { toSnakeCase } from '../serializers/field-spec';
import type { ProtoSerializerClass } from '../serializers/proto-serializer';
import { GenericServiceBase } from '../services/generic-service';
import type { FieldPatterns } from './field-types';
import { ModelServiceShape, modelServiceParts, STANDARD_RPCS, StandardRpc } from './model-service';
import { FieldModel, numbered, ProtoFileModel, RpcModel, ServiceModel, TypeModel } from './proto-model';
import { SerializerLike, serializerShape, SerializerTypes } from './serializer-proto';

/** A registered service, as generation reads it. */
export interface ContractService {
  instance: object;
  options: GrpcModelServiceOptions;
}

/** How the generated messages treat what clients write (the per-serializer command's flags). */
export interface ContractOptions extends FieldPatterns {
  /** Create and Update receive a `<Model>Write` message. @default false */
  writeMessage?: boolean;
  /** Writes take an AIP-155 `request_id` (see `ModelRpcOptions.requestIds`). @default false */
  requestIds?: boolean;
}

/** The files the services make, one per package (paths left to the caller), or what stops generation. */
export interface Contract {
  files: ProtoFileModel[];
  problems: string[];
}

/**
 * What the application's services declare, as proto files: per package, every service with the
 * mixins' rpcs it composes and its custom actions, and the messages of their serializers, list
 * requests and actions. `existing` gives the file on disk of a package: its messages named by an
 * action (`response: 'LoginResponse'`) are taken from it, and an rpc it declares that the class
 * serves with an undecorated method (which generation cannot describe) is a problem.
 */
export function applicationContract(
  services: readonly ContractService[],
  metadata: MetadataStorage,
  existing: (pkg: string) => ProtoFileModel | undefined,
  options: ContractOptions = {},
): Contract {
  const problems: string[] = [];
  const packages = new Map<string, PackageBuilder>();
  for (const service of services) {
    const dot = service.options.service.lastIndexOf('.');
    const pkg = dot > 0 ? service.options.service.slice(0, dot) : '';
    let builder = packages.get(pkg);
    if (!builder) packages.set(pkg, (builder = new PackageBuilder(pkg, metadata, existing(pkg), problems)));
    builder.add(service, options);
  }
  return { files: [...packages.values()].map((builder) => builder.file()), problems };
}

/** One package's file as its services are added. */
class PackageBuilder {
  private readonly services: ServiceModel[] = [];
  private readonly types = new Map<string, { type: TypeModel; from: string }>();
  /** Inline fields' types, checked once every message of the package is known. */
  private readonly inlineTypes: { from: string; field: string; type: string }[] = [];

  constructor(
    private readonly pkg: string,
    private readonly metadata: MetadataStorage,
    private readonly existing: ProtoFileModel | undefined,
    private readonly problems: string[],
  ) {}

  file(): ProtoFileModel {
    for (const { from, field, type } of this.inlineTypes) {
      if (
        PROTO_SCALARS.has(type) ||
        type.startsWith('google.protobuf.') ||
        this.types.has(type) ||
        this.existing?.types.some((t) => t.name === type)
      )
        continue;
      this.problems.push(
        `${from} field "${field}" has type "${type}", which is no proto scalar and no message or enum of package ${this.pkg}: ` +
          'use a scalar (string, int32, int64, double, bool, bytes, ...), a well-known type, or a message of the package.',
      );
    }
    return { path: '', package: this.pkg, services: this.services, types: [...this.types.values()].map((entry) => entry.type) };
  }

  add(service: ContractService, options: ContractOptions): void {
    const { instance } = service;
    const className = instance.constructor.name;
    const name = service.options.service.slice(service.options.service.lastIndexOf('.') + 1);
    const actions = actionsOf(instance.constructor);
    const rpcs: RpcModel[] = [];
    const types = new SerializerTypes(this.metadata);
    let modelMessage: { serializer: ProtoSerializerClass; name: string } | undefined;
    if (instance instanceof GenericServiceBase) {
      const serializer = this.serializerOf(instance, className);
      const standard = STANDARD_RPCS.filter(
        (rpc) => typeof (instance as unknown as Record<string, unknown>)[rpc] === 'function' && !actions.has(rpc),
      );
      if (serializer && standard.length) {
        const shape = keyed(serializerShape(serializer as unknown as SerializerLike, this.metadata, options), instance, serializer);
        const parts = modelServiceParts(shape, {
          serviceName: name,
          rpcs: standard,
          listFields: listFieldsOf(instance, standard),
          listField: plural(toSnakeCase(shape.model)),
          totalSize: instance.countTotal,
          requestIds: options.requestIds,
        });
        rpcs.push(...parts.service.rpcs);
        for (const type of parts.types) this.addType(type, `${className}'s serializer ${serializer.name}`);
        modelMessage = { serializer, name: shape.model };
      }
    }
    for (const action of actions.values()) {
      const unset = (['request', 'response'] as const).filter((side) => side in action && action[side] === undefined);
      if (unset.length) {
        this.problems.push(
          `${className}.${action.name}: @GrpcAction's ${unset.join(' and ')} is undefined (an import cycle?): name the serializer or message.`,
        );
        continue;
      }
      rpcs.push({
        name: action.name,
        request: this.messageName(action, 'request', modelMessage),
        requestStream: action.requestStream ?? false,
        response: this.messageName(action, 'response', modelMessage),
        responseStream: action.responseStream ?? false,
      });
      for (const side of ['request', 'response'] as const) this.addActionMessage(className, action, side, modelMessage, types);
    }
    for (const type of types.defined) this.addType(type, `${className}'s actions`);
    for (const rpc of rpcs) {
      const route = actions.get(rpc.name)?.http ?? service.options.http?.[rpc.name];
      if (route) rpc.body = this.httpOption(`${className}.${rpc.name}`, route);
    }
    for (const name of Object.keys(service.options.http ?? {})) {
      if (!rpcs.some((rpc) => rpc.name === name))
        this.problems.push(`${className}: @GrpcModelService's http names ${name}, which the service does not serve.`);
    }
    this.checkUndescribedHandlers(className, name, instance, rpcs);
    this.services.push({ name, rpcs });
  }

  private serializerOf(instance: GenericServiceBase, className: string): ProtoSerializerClass | undefined {
    try {
      return instance.getSerializerClass() as ProtoSerializerClass;
    } catch (error) {
      this.problems.push(`${className}: generation needs its serializer: ${(error as Error).message}`);
      return undefined;
    }
  }

  /** The message name of an action's side, within this package. */
  private messageName(
    action: ActionDeclaration,
    side: 'request' | 'response',
    model: { serializer: ProtoSerializerClass; name: string } | undefined,
  ): string {
    const kind = actionMessageKind(action[side]);
    if (kind.kind === 'serializer' && model && kind.serializer === model.serializer) return model.name;
    const name = actionMessageName(action, side);
    return this.pkg && name.startsWith(`${this.pkg}.`) ? name.slice(this.pkg.length + 1) : name;
  }

  private addActionMessage(
    className: string,
    action: ActionDeclaration,
    side: 'request' | 'response',
    model: { serializer: ProtoSerializerClass; name: string } | undefined,
    types: SerializerTypes,
  ): void {
    const kind = actionMessageKind(action[side]);
    const name = this.messageName(action, side, model);
    const from = `${className}.${action.name}'s ${side}`;
    if (kind.kind === 'serializer') {
      if (kind.serializer === model?.serializer) return;
      this.addType(types.messageOf(kind.serializer as unknown as SerializerLike, name, side === 'request' ? 'writable' : 'readable'), from);
    } else if (kind.kind === 'fields') {
      const fields = Object.entries(kind.fields).map(([field, declaration]) => ({ name: field, ...parseFieldType(declaration) }));
      for (const field of fields) this.inlineTypes.push({ from, field: field.name, type: field.type });
      this.addType({ kind: 'message', name, fields: numbered(fields) }, from);
    } else if (!name.startsWith('google.protobuf.') && !this.types.has(name)) {
      // A message named, not described: the package's file declares it.
      const declared = this.existing?.types.find((type) => type.name === name);
      if (declared) this.addType(declared, `${this.existing!.path}`);
      else {
        this.problems.push(
          `${from} is the message ${name}, which ${this.existing ? `${this.existing.path} does not declare` : `no file of package ${this.pkg} declares yet`}: ` +
            'declare it there, or give the action a serializer or inline fields.',
        );
      }
    }
  }

  /** An rpc of the file on disk that the class serves with a method generation cannot describe. */
  private checkUndescribedHandlers(className: string, name: string, instance: object, rpcs: readonly RpcModel[]): void {
    const declared = this.existing?.services.find((service) => service.name === name);
    for (const rpc of declared?.rpcs ?? []) {
      if (rpcs.some((r) => r.name === rpc.name) || typeof (instance as Record<string, unknown>)[rpc.name] !== 'function') continue;
      this.problems.push(
        `${className}.${rpc.name} serves rpc ${this.pkg}.${name}.${rpc.name} without @GrpcAction, so generation cannot tell its messages: ` +
          `declare it with @GrpcAction({ request, response }), or mark ${this.existing!.path} hand-written.`,
      );
    }
  }

  /** `option (google.api.http) = { post: "/v1/books" body: "*" };` */
  private httpOption(where: string, route: HttpRoute): string[] | undefined {
    const methods = (['get', 'post', 'put', 'patch', 'delete'] as const).filter((method) => route[method] !== undefined);
    if (methods.length !== 1) {
      this.problems.push(
        `${where}: an HTTP route has one method (get, post, put, patch or delete) and its path; this one has ${methods.join(', ') || 'none'}.`,
      );
      return undefined;
    }
    const parts = [`${methods[0]}: ${JSON.stringify(route[methods[0]])}`];
    if (route.body !== undefined) parts.push(`body: ${JSON.stringify(route.body)}`);
    if (route.responseBody !== undefined) parts.push(`response_body: ${JSON.stringify(route.responseBody)}`);
    return [`    option (google.api.http) = { ${parts.join(' ')} };`];
  }

  /** Adds a message or enum once; a second one of the same name must have the same fields. */
  private addType(type: TypeModel, from: string): void {
    const known = this.types.get(type.name);
    if (!known) {
      this.types.set(type.name, { type, from });
      return;
    }
    if (shapeOf(known.type) !== shapeOf(type)) {
      this.problems.push(
        `two definitions of ${this.pkg ? `${this.pkg}.` : ''}${type.name} differ: ${describe(known.type)} (from ${known.from}) and ${describe(type)} (from ${from}). ` +
          'Give one serializer another name (a message is named after its entity, or its class without "Serializer").',
      );
    }
  }
}

/** The List request fields a service reads: `filter` and `order_by` when it allows them, pages with ListPage or either. */
function listFieldsOf(instance: GenericServiceBase, rpcs: readonly StandardRpc[]): { filter: boolean; orderBy: boolean; page: boolean } {
  const filter = !!instance.filterFields && Object.keys(instance.filterFields).length > 0;
  const orderBy = !!instance.orderingFields?.length;
  return { filter, orderBy, page: rpcs.includes('ListPage') || filter || orderBy };
}

/** The shape with the Retrieve request's key as the service looks objects up (`lookupField`, `lookupRequestField`). */
function keyed(shape: ModelServiceShape, instance: GenericServiceBase, serializer: ProtoSerializerClass): ModelServiceShape {
  if (!instance.lookupField && !instance.lookupRequestField) return shape;
  const property = instance.lookupField;
  const field = property ? serializer.spec().fields.find((f) => f.property === property) : undefined;
  const type = field ? (shape.fields.find((f) => f.name === field.protoName)?.type ?? shape.key.type) : shape.key.type;
  const name = instance.lookupRequestField ?? (property ? toSnakeCase(property) : shape.key.name);
  const key: FieldModel = { name, type, label: '', number: 1 };
  return { ...shape, key };
}

/** AIP-132's plural of a resource's snake_case name: `books`, `categories`, `boxes`. */
export function plural(name: string): string {
  if (/[^aeiou]y$/.test(name)) return `${name.slice(0, -1)}ies`;
  if (/(s|x|z|ch|sh)$/.test(name)) return `${name}es`;
  return `${name}s`;
}

/** A type's structure (comments aside), for comparing two definitions. */
function shapeOf(type: TypeModel): string {
  return type.kind === 'message'
    ? `message:${type.fields.map((f) => `${f.label} ${f.type} ${f.name}=${f.number}${f.oneof ? `@${f.oneof}` : ''}`).join(';')}`
    : `enum:${type.values.map((v) => `${v.name}=${v.number}`).join(';')}`;
}

function describe(type: TypeModel): string {
  return type.kind === 'message'
    ? `{ ${type.fields.map((f) => `${f.label ? `${f.label} ` : ''}${f.type} ${f.name} = ${f.number}`).join('; ')} }`
    : `{ ${type.values.map((v) => `${v.name} = ${v.number}`).join('; ')} }`;
}
