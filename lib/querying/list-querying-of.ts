import type { EntityManager } from '@mikro-orm/core';
import { ImproperlyConfiguredError } from '../errors/improperly-configured.error';
import { containsCondition } from './contains-condition';
import { FilterFields, ListQuerying } from './list-querying';
import type { SerializerSpec } from '../serializers/serializer-spec';

type SerializerClassLike = { name: string; spec(): SerializerSpec };

/** What a List's querying is made from (`GenericServiceBase` is one). */
export interface QueryableService {
  readonly filterFields?: FilterFields;
  readonly orderingFields?: readonly string[];
  readonly entity: Function;
  readonly serializerClass?: SerializerClassLike;
  getSerializerClass(): SerializerClassLike;
}

/** Per ORM platform (its SQL for "contains"), per service class. */
const made = new WeakMap<object, WeakMap<Function, ListQuerying | string[]>>();

/**
 * The List querying of a service's class, made once (the server makes it as it starts and
 * reports its problems then; a service used otherwise gets them as an error on first use).
 */
export function listQueryingOf(service: QueryableService, em: EntityManager): ListQuerying {
  const result = listQueryingOrProblems(service, em);
  if (Array.isArray(result)) throw new ImproperlyConfiguredError(`${service.constructor.name}: ${result.join(' ')}`);
  return result;
}

/** The List querying of a service's class, or what is wrong with its allowlists. */
export function listQueryingOrProblems(service: QueryableService, em: EntityManager): ListQuerying | string[] {
  const platform = em.getPlatform();
  let byClass = made.get(platform);
  if (!byClass) made.set(platform, (byClass = new WeakMap()));
  let result = byClass.get(service.constructor);
  if (!result) {
    const meta = em.getMetadata().get(service.entity.name);
    const created = ListQuerying.create(
      service,
      (service.serializerClass ?? service.getSerializerClass()).spec(),
      meta,
      containsCondition(em, meta),
    );
    result = 'querying' in created ? created.querying : created.problems;
    byClass.set(service.constructor, result);
  }
  return result;
}
