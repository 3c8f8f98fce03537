import type { EntityManager, FilterQuery } from '@mikro-orm/core';
import type { CallContext } from '../call/call-context';
import { PlanExecutor } from '../orm/plan-executor';
import type { ServiceFacts } from '../plan/plan-facts';
import { decidePlan, ServicePlan } from '../plan/service-plan';
import type { ObjectCreator, ProtoSerializer } from '../serializers/proto-serializer';
import { PlannedService, planFactsOf } from './plan-facts-of';

/**
 * A service class's plan, and what carries it out on one ORM: decided once, when the server
 * starts (or on a class's first call, for a service the server did not start).
 */
export class PlannedClass {
  /** The creator a Create's serializer context carries; undefined unless the plan's Create inserts unmanaged objects. */
  readonly creator: ObjectCreator | undefined;

  constructor(
    readonly facts: ServiceFacts,
    readonly plan: ServicePlan,
    readonly executor: PlanExecutor,
    /** The serializer class the plan is for. */
    readonly serializerClass: Function | undefined,
  ) {
    this.creator = plan.create.path === 'unmanaged' ? new UnmanagedCreator(executor, serializerClass) : undefined;
  }
}

/** Inserts a Create's object unmanaged for the serializer the plan is for, in the serializer's call. */
class UnmanagedCreator implements ObjectCreator {
  constructor(
    private readonly executor: PlanExecutor,
    private readonly serializerClass: Function | undefined,
  ) {}

  create(serializer: ProtoSerializer<object>, data: Record<string, unknown>): Promise<object> | undefined {
    const call: CallContext | undefined = serializer.context.call;
    if (!call || serializer.constructor !== this.serializerClass) return undefined;
    return this.executor.createUnmanaged(call.readEm, call, data);
  }
}

/** Plans per ORM platform (their SQL differs), per service class. */
const planned = new WeakMap<object, WeakMap<Function, PlannedClass>>();

/** The plan of a service's class on the ORM of `em`, decided on first use. */
export function planOf(service: PlannedService, em: EntityManager): PlannedClass {
  const platform = em.getPlatform();
  let byClass = planned.get(platform);
  if (!byClass) planned.set(platform, (byClass = new WeakMap()));
  let plan = byClass.get(service.constructor);
  if (!plan) byClass.set(service.constructor, (plan = planClass(service, em)));
  return plan;
}

function planClass(service: PlannedService, em: EntityManager): PlannedClass {
  const facts = planFactsOf(service, em);
  const plan = decidePlan(facts);
  const queryset = service.classQueryset();
  const meta = em.getMetadata().get(queryset.entity.name);
  const executor = PlanExecutor.build(em, plan, meta, queryset.where as FilterQuery<object>);
  return new PlannedClass(facts, plan, executor, service.serializerClass);
}
