import { EntityManager, Utils } from '@mikro-orm/core';
import { isModelSerializerClass } from './model-proto-serializer';
import type { ProtoMessage, ProtoSerializer, ProtoSerializerClass } from './proto-serializer';

/**
 * The message (or, for `many`, the messages) of a serializer's objects once what it reads is
 * loaded: the relations it reads through (nested objects, dotted sources) populated on `em`,
 * its batch computed fields loaded. `em` is asked for only when there are relations to
 * load (a call forks its EntityManager when first asked).
 */
export async function serializedMessage(
  serializer: ProtoSerializer<object>,
  em: () => EntityManager | undefined,
): Promise<ProtoMessage | ProtoMessage[]> {
  const Serializer = serializer.constructor as ProtoSerializerClass;
  const relations = isModelSerializerClass(Serializer) ? Serializer.relationsRead() : [];
  if (relations.length) {
    // Entities only: a handler may give plain data, which has nothing to load.
    const instance = serializer.instance;
    const entities = (Array.isArray(instance) ? instance : [instance]).filter((one) => Utils.isEntity(one));
    const manager = entities.length ? em() : undefined;
    if (manager) await manager.populate(entities as object[], relations as never);
  }
  if (serializer.loadsBatches) await serializer.load();
  return serializer.many ? serializer.messages : serializer.message;
}
