import type { EntityManager, EntityMetadata, FilterQuery, Platform } from '@mikro-orm/core';
import { ColumnReader, CompiledLookup } from '../orm/column-reader';
import type { ModelProtoSerializerBase } from '../serializers/model-proto-serializer';
import type { GenericServiceBase, Queryset } from './generic-service';

/** Hooks that, overridden, decide per call which rows or which serializer a read uses. */
const QUERY_HOOKS = ['getQueryset', 'filterQueryset', 'getObject', 'getSerializer'] as const;

/**
 * How a service's Retrieve and List read when the serializer needs only columns: a column
 * reader over the serializer's properties (plus the List order's), and the Retrieve lookup
 * compiled once per lookup field. Made on the first call, then shared by every call.
 */
export class LeanReadPlan {
  private readonly lookups = new Map<string, CompiledLookup | null>();

  constructor(
    readonly meta: EntityMetadata,
    readonly reader: ColumnReader,
    private readonly where: FilterQuery<object>,
  ) {}

  lookup(em: EntityManager, property: string): CompiledLookup | undefined {
    let lookup = this.lookups.get(property);
    if (lookup === undefined) {
      lookup = this.reader.compileLookup(em, this.where, property) ?? null;
      this.lookups.set(property, lookup);
    }
    return lookup ?? undefined;
  }
}

// Per ORM (its platform), per service class, per serializer class: null when a read needs entities.
const plans = new WeakMap<Platform, WeakMap<Function, WeakMap<Function, LeanReadPlan | null>>>();

/** The lean read plan for this service and serializer class, or undefined when reads need entities. */
export function leanReadPlan(
  service: GenericServiceBase<object>,
  serializer: Function,
  em: EntityManager,
  defaults: GenericServiceBase<object>,
): LeanReadPlan | undefined {
  const platform = em.getPlatform();
  let byService = plans.get(platform);
  if (!byService) plans.set(platform, (byService = new WeakMap()));
  let bySerializer = byService.get(service.constructor);
  if (!bySerializer) byService.set(service.constructor, (bySerializer = new WeakMap()));
  let plan = bySerializer.get(serializer);
  if (plan === undefined) {
    plan = makePlan(service, serializer, em, defaults) ?? null;
    bySerializer.set(serializer, plan);
  }
  return plan ?? undefined;
}

function makePlan(
  service: GenericServiceBase<object>,
  serializer: Function,
  em: EntityManager,
  defaults: GenericServiceBase<object>,
): LeanReadPlan | undefined {
  if (QUERY_HOOKS.some((hook) => service[hook] !== defaults[hook])) return undefined;
  const model = serializer as typeof ModelProtoSerializerBase;
  if (typeof model.columnProperties !== 'function' || model.entity !== service.entity) return undefined;
  const properties = model.columnProperties();
  if (!properties) return undefined;
  // Static because no hook above is overridden: the same for every call.
  const queryset: Queryset<object> = service.getQueryset();
  const meta = em.getMetadata().get(queryset.entity.name);
  const orderProperties = Object.entries(queryset.orderBy as Record<string, unknown>)
    .filter(([name, direction]) => name in meta.properties && typeof direction !== 'object')
    .map(([name]) => name);
  const reader = ColumnReader.create(em, meta, [...meta.primaryKeys, ...properties, ...orderProperties]);
  return reader && new LeanReadPlan(meta, reader, queryset.where as FilterQuery<object>);
}
