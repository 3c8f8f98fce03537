import type { NestInterceptor } from '@nestjs/common';
import type { ExternalContextCreator } from '@nestjs/core';
import type { Authenticator } from '../auth/authenticator';
import { CallAccess } from '../auth/call-access';
import type { ServicePermissions } from '../auth/permissions';
import { controllerContextCreator, pipesOf } from './nest-internals';
import { PipedRequest } from './piped-request';
import { bindRpc } from './rpc-binding';
import { checkActions } from '../checks/action-check';
import { ActionDeclaration, actionsOf } from '../decorators/grpc-action.decorator';
import { ActionHandler, actionHandler } from '../services/custom-action';
import { RequestStream } from '../call/request-stream';
import { grpcServiceOptionsOf } from '../decorators/grpc-model-service.decorator';
import type { GrpcModelServiceOptions } from '../interfaces/grpc-model-service-options.interface';
import type { ServiceDefinition } from '../proto/proto-registry';
import { Service, serviceView } from '../services/service';
import type { CallContext } from '../call/call-context';
import type { BoundRpc, RpcRequest } from '../transport/bound-rpc';

export interface ServiceToBind {
  instance: object;
  options: GrpcModelServiceOptions;
  /** Token of the module declaring the controller; its injector resolves the class's guards and interceptors. */
  moduleKey: string;
  /** That module's class name, for messages. */
  moduleName: string;
}

/** Where a controller was found. */
export interface DiscoveredController {
  instance: unknown;
  moduleKey: string;
  moduleName: string;
}

/** Finds the handler of each rpc and wraps it with Nest's guards and interceptors; its exception filters run on its errors. */
export function bindService(
  target: ServiceToBind,
  definition: ServiceDefinition,
  contextCreator: ExternalContextCreator,
  interceptors: NestInterceptor[],
  access: AccessDefaults,
  problems: string[],
): BoundRpc[] {
  const { instance } = target;
  const className = instance.constructor.name;
  const bound: BoundRpc[] = [];
  const actions = actionsOf(instance.constructor);
  checkActions(className, actions, definition, problems);
  for (const rpc of definition.rpcs) {
    const where = `${className} (${definition.name}.${rpc.name}${definition.file ? `, ${definition.file}` : ''})`;
    const method = (instance as Record<string, unknown>)[rpc.name];
    if (typeof method !== 'function') {
      problems.push(
        `${where}: rpc ${rpc.name} has no handler. Add a \`${rpc.name}(request, context)\` method` +
          `${mixinHint(rpc.name)}, or remove the rpc from the service.`,
      );
      continue;
    }
    const decorated = method as ActionHandler;
    const action = actions.get(rpc.name);
    const handler = action ? actionHandler(action, decorated) : decorated;
    // Pipes transform a request message; a request stream reaches the handler as it is.
    const creator = controllerContextCreator(contextCreator, target.moduleKey);
    const pipes = PipedRequest.of(pipesOf(creator, instance, decorated, target.moduleKey), instance, rpc.name);
    const run = (request: RpcRequest, context: CallContext): unknown => {
      if (pipes && !(request instanceof RequestStream))
        return pipes.apply(request).then((piped) => handler.call(serviceView(instance as Service, piped, context), piped, context));
      return handler.call(serviceView(instance as Service, request, context), request, context);
    };
    bound.push(
      bindRpc({
        rpc,
        service: definition.name,
        instance,
        moduleKey: target.moduleKey,
        name: rpc.name,
        decorated,
        run,
        interceptors,
        contextCreator,
        access: CallAccess.of(rpc.name, accessOptions(target.options, action, where, problems), access),
      }),
    );
  }
  return bound;
}

/**
 * The service's access options for one rpc: an action's own `permissions` replace the
 * service's for it; the service may not name them for the action as well.
 */
function accessOptions(
  options: GrpcModelServiceOptions,
  action: ActionDeclaration | undefined,
  where: string,
  problems: string[],
): GrpcModelServiceOptions {
  if (!action?.permissions) return options;
  const perAction =
    options.permissions && !Array.isArray(options.permissions) ? (options.permissions as Record<string, unknown>) : undefined;
  if (perAction && Object.prototype.hasOwnProperty.call(perAction, action.name)) {
    problems.push(
      `${where}: the permissions of ${action.name} are given twice, by @GrpcAction({ permissions }) and by the service's ` +
        `permissions.${action.name}; keep one.`,
    );
  }
  return { ...options, permissions: action.permissions };
}

/** The module's authenticators and permissions, for services that name none. */
export interface AccessDefaults {
  authenticators: readonly Authenticator[];
  permissions?: ServicePermissions;
}

const MIXIN_OF_RPC: Readonly<Record<string, string>> = {
  List: 'ListModelMixin',
  ListPage: 'PagedListModelMixin',
  Create: 'CreateModelMixin',
  Retrieve: 'RetrieveModelMixin',
  Update: 'UpdateModelMixin',
  PartialUpdate: 'UpdateModelMixin (it serves PartialUpdate too)',
  Destroy: 'DestroyModelMixin',
};

function mixinHint(rpc: string): string {
  return MIXIN_OF_RPC[rpc] ? ` or compose ${MIXIN_OF_RPC[rpc]}` : '';
}

/** Every controller decorated with `@GrpcModelService`, with its options. */
export function servicesAmong(controllers: readonly DiscoveredController[]): ServiceToBind[] {
  const found: ServiceToBind[] = [];
  for (const { instance, moduleKey, moduleName } of controllers) {
    if (!instance || typeof instance !== 'object') continue;
    const options = grpcServiceOptionsOf(instance.constructor);
    if (options) found.push({ instance, options, moduleKey, moduleName });
  }
  return found;
}
