import type { EntityManager } from '@mikro-orm/core';
import type { OneRowInsert } from '../orm/one-row-insert';
import type { CallContext } from '../call/call-context';
import type { SerializerContext } from './proto-serializer';

/** An insert of an unmanaged instance, offered to one serializer class for one call's Create. */
interface Offer {
  serializer: Function;
  insert: OneRowInsert;
}

const offers = new WeakMap<CallContext, Offer>();

/**
 * Runs `work` (a Create's validate, save and respond) with the serializer's `create` offered
 * `insert`: the fast path decided that the saved object only becomes the response, so it need
 * not be an entity an EntityManager manages (see `FastPaths.created`).
 */
export async function offerUnmanagedInsert<R>(
  call: CallContext,
  serializer: Function,
  insert: OneRowInsert,
  work: () => Promise<R>,
): Promise<R> {
  offers.set(call, { serializer, insert });
  try {
    return await work();
  } finally {
    offers.delete(call);
  }
}

/**
 * The insert offered to this serializer's class in its call, and the EntityManager to run it
 * on, taken once: any other save in the same write makes a managed entity. The call's own
 * EntityManager when it has one (or when an `onCreate` function takes one), else the
 * application's: the insert needs no unit of work.
 */
export function takeUnmanagedInsert(
  serializer: object,
  context: SerializerContext,
): { insert: OneRowInsert; em: EntityManager } | undefined {
  const call = context.call;
  const offer = call && offers.get(call);
  if (!offer || offer.serializer !== serializer.constructor) return undefined;
  offers.delete(call);
  return { insert: offer.insert, em: offer.insert.onCreateTakesEntityManager ? call.em : call.readEm };
}
