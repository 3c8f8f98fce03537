import { EntityManager, EntityMetadata, EventType, FilterQuery } from '@mikro-orm/core';
import type { ColumnsPlan, ServicePlan, WriteAction } from '../plan/service-plan';
import { ColumnReader, CompiledLookup, RelatedColumns } from './column-reader';
import { withoutImplicitTransactions } from './mikro-orm-internals';
import { flushIsOneRow } from './one-row-flush';
import { OneRowInsert } from './one-row-insert';
import type { Awaitable } from './row-queries';

/** Where a write runs: a call's own EntityManager (forked on first use) and its transactions. */
export interface WriteScope {
  readonly em: EntityManager;
  inTransaction<R>(work: () => Promise<R>): Promise<R>;
}

/**
 * Carries out a service plan on one ORM: builds, once, the column readers and compiled
 * statements its paths read and write with, and takes a fast path for a call only while the
 * ORM's run-time state allows it: no outer transaction (a test's), no hook or subscriber added
 * since start-up that joins a flush or wants entities. Those are the only per-call checks; what
 * the class does was decided by the plan.
 */
export class PlanExecutor {
  /** Lookups compiled so far, by property (null: not a plain column). */
  private readonly lookups = new Map<string, CompiledLookup | null>();

  private constructor(
    readonly plan: ServicePlan,
    private readonly meta: EntityMetadata,
    /** The class queryset's filter, in every compiled lookup. */
    private readonly where: FilterQuery<object>,
    /** The reader of the columns the plan's serializer sends; undefined when reads load entities. */
    readonly reader: ColumnReader | undefined,
    /** The INSERT a Create of an unmanaged object runs; undefined when the plan's Create makes an entity. */
    private readonly unmanagedInsert: OneRowInsert | undefined,
  ) {}

  /** The executor of `plan` for the entity `meta` on the ORM of `em`. */
  static build(em: EntityManager, plan: ServicePlan, meta: EntityMetadata, where: FilterQuery<object>): PlanExecutor {
    const reader = plan.reads.columns ? readerOf(em, plan.reads.columns) : undefined;
    const insert = plan.create.path === 'unmanaged' ? OneRowInsert.for(em, meta) : undefined;
    return new PlanExecutor(plan, meta, where, reader, insert instanceof OneRowInsert ? insert : undefined);
  }

  /**
   * The row of one object read as columns by a lookup property, through a statement compiled
   * once (null when no row matches); undefined, at once, when the plan loads entities or the
   * property is not a plain column.
   */
  readOne(em: EntityManager, property: string, value: unknown): Awaitable<object | null> | undefined {
    const reader = this.reader;
    if (!reader) return undefined;
    let lookup = this.lookups.get(property);
    if (lookup === undefined) {
      lookup = reader.compileLookup(em, this.where, property) ?? null;
      this.lookups.set(property, lookup);
    }
    return lookup ? reader.findOne(em, lookup, value) : undefined;
  }

  /**
   * Runs a write of `action` all or nothing, the way the plan decided, unless the ORM's state
   * rules its fast path out for this call: inside an outer transaction every write takes a
   * savepoint (`inTransaction`), and a flush stays one statement only while no hook or
   * subscriber joins it. `em` is the call's EntityManager for reading (no fork); the scope's
   * own is asked for only when the write flushes.
   */
  runWrite<R>(action: WriteAction, em: EntityManager, scope: WriteScope, work: () => Promise<R>): Promise<R> {
    const { path } = this.plan.writes[action];
    if (path === 'transaction' || em.isInTransaction()) return scope.inTransaction(work);
    if (path !== 'one-statement' || !flushIsOneRow(em, this.meta)) return work();
    // An unmanaged insert (`createUnmanaged`) flushes nothing: no fork for it.
    if (action === 'Create' && this.insertsUnmanagedNow(em)) return work();
    return withoutImplicitTransactions(scope.em, work);
  }

  /**
   * Inserts the new object of a one-statement Create from its validated data, through an
   * instance no EntityManager manages (the plan decided it only becomes the response), when the
   * ORM's state allows it now; undefined when the Create must make a managed entity. `em` is the
   * call's EntityManager for reading; the scope's own is for an `onCreate` that takes one.
   */
  createUnmanaged(em: EntityManager, scope: { readonly em: EntityManager }, data: Record<string, unknown>): Promise<object> | undefined {
    const insert = this.unmanagedInsert;
    if (!insert || em.isInTransaction() || !flushIsOneRow(em, this.meta) || !this.insertsUnmanagedNow(em)) return undefined;
    return insert.insertUnmanaged(insert.onCreateTakesEntityManager ? scope.em : em, data);
  }

  /** Whether this call's Create inserts an unmanaged instance: as planned, on the table's schema, while no onInit listener wants an entity. */
  private insertsUnmanagedNow(em: EntityManager): boolean {
    const insert = this.unmanagedInsert;
    return !!insert && insert.writesTablesSchema(em) && !em.getEventManager().hasListeners(EventType.onInit, this.meta);
  }
}

/** A reader of a columns plan, its nested objects read by readers of their own. */
function readerOf(em: EntityManager, columns: ColumnsPlan): ColumnReader {
  const related: RelatedColumns[] = columns.related.map(({ property, columns: nested }) => ({ property, reader: readerOf(em, nested) }));
  const made = ColumnReader.create(em, em.getMetadata().get(columns.entity), columns.properties, related);
  // The plan was decided from the same metadata: a refusal here is a plan that does not match it.
  if ('reason' in made) throw new Error(`The service plan reads columns of ${columns.entity} that cannot be read: ${made.reason}`);
  return made.reader;
}
