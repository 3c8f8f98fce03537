import type { MikroORM } from '@mikro-orm/core';
import { registerEntityHint } from '../errors/startup-hints';
import type { ServiceDefinition } from '../proto/proto-registry';
import type { ModelProtoSerializerBase } from '../serializers/model-proto-serializer';
import type { SerializerSpec } from '../serializers/serializer-spec';
import { GenericServiceBase } from '../services/generic-service';
import { checkListQuerying } from './list-querying-check';
import { checkSerializerAgainstProto } from './serializer-proto-check';

/** Start-up checks of a model service's configuration: entity, serializer and lookup field. */
export function checkModelService(
  instance: object,
  moduleName: string,
  orm: MikroORM | undefined,
  definition: ServiceDefinition,
  problems: string[],
): void {
  if (!(instance instanceof GenericServiceBase)) return;
  const className = instance.constructor.name;
  const entity = (instance.constructor as typeof GenericServiceBase).entity;
  if (!entity) {
    problems.push(`${className}: no entity. Extend GenericService(Entity) or a concrete service such as ModelService(Entity).`);
    return;
  }
  if (!orm) {
    problems.push(`${className}: model services need MikroORM. Import MikroOrmModule.forRoot({...}) in the application module.`);
    return;
  }
  const meta = orm.getMetadata().find(entity.name);
  if (!meta) {
    problems.push(`${className}: entity ${entity.name} is not known to MikroORM. ${registerEntityHint(entity.name, moduleName)}`);
    return;
  }
  const lookupField = instance.lookupField;
  if (lookupField && !(lookupField in meta.properties)) {
    problems.push(
      `${className}: lookupField "${lookupField}" is not a property of ${entity.name} ` +
        `(properties: ${Object.keys(meta.properties).join(', ')}).`,
    );
  }
  const serializer = instance.serializerClass;
  if (!serializer) {
    problems.push(
      `${className}: no serializer. Pass \`serializer\` to @GrpcModelService({ service, serializer }) or set \`serializerClass\`.`,
    );
    return;
  }
  let spec: SerializerSpec;
  try {
    spec = (serializer as unknown as typeof ModelProtoSerializerBase).spec();
  } catch (error) {
    problems.push(`${className}: serializer ${serializer.name}: ${(error as Error).message}`);
    return;
  }
  checkSerializerAgainstProto(className, serializer.name, spec, definition, problems);
  checkListQuerying(instance, orm, definition, problems);
  const list = definition.rpcs.find((rpc) => rpc.name === 'List');
  if (list && !list.responseStream && typeof (instance as { List?: unknown }).List === 'function') {
    problems.push(
      `${className} (${definition.name}.List${definition.file ? `, ${definition.file}` : ''}): List must be server streaming: ` +
        `declare it as \`rpc List(${list.request.type.name}) returns (stream ${list.response.type.name})\`.`,
    );
  }
}
