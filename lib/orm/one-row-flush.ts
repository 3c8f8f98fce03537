import { EntityManager, EntityMetadata, EventManager, EventType } from '@mikro-orm/core';

/** Entity events whose handlers run inside a flush, around its statements. */
const ROW_EVENTS = [
  EventType.beforeCreate,
  EventType.afterCreate,
  EventType.beforeUpdate,
  EventType.afterUpdate,
  EventType.beforeUpsert,
  EventType.afterUpsert,
] as const;

/** Flush and transaction events: a handler may add statements to a flush, or count on its transaction. */
const FLUSH_EVENTS = [
  EventType.beforeFlush,
  EventType.onFlush,
  EventType.beforeTransactionStart,
  EventType.afterTransactionStart,
  EventType.beforeTransactionCommit,
  EventType.afterTransactionCommit,
  EventType.beforeTransactionRollback,
  EventType.afterTransactionRollback,
] as const;

/** Answers per event manager and entity, made again when a subscriber is registered. */
const answers = new WeakMap<EventManager, { subscribers: number; byEntity: WeakMap<EntityMetadata, boolean> }>();

/**
 * Whether a flush on `em` that inserts or updates one row of `meta` and changes nothing else
 * is that one statement: no hook or subscriber can add statements to it or act after the row
 * is written, and no relation is initialised on create or update (it could be a new entity,
 * inserted by cascade in the same flush). Asked on every write, so answered once per entity.
 */
export function flushIsOneRow(em: EntityManager, meta: EntityMetadata): boolean {
  const events = em.getEventManager();
  const subscribers = events.getSubscribers().size;
  let cache = answers.get(events);
  if (!cache || cache.subscribers !== subscribers) answers.set(events, (cache = { subscribers, byEntity: new WeakMap() }));
  let answer = cache.byEntity.get(meta);
  if (answer === undefined) cache.byEntity.set(meta, (answer = writesOneRow(events, meta)));
  return answer;
}

function writesOneRow(events: EventManager, meta: EntityMetadata): boolean {
  if (ROW_EVENTS.some((event) => events.hasListeners(event, meta))) return false;
  for (const subscriber of events.getSubscribers()) {
    if (FLUSH_EVENTS.some((event) => typeof (subscriber as Record<string, unknown>)[event] === 'function')) return false;
  }
  return !meta.relations.some((prop) => prop.onCreate || prop.onUpdate);
}
