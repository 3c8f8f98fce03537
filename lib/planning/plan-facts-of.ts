import { EntityManager, EntityMetadata, EntityProperty, ReferenceKind } from '@mikro-orm/core';
import { ColumnReader, isPlainColumn } from '../orm/column-reader';
import { OneRowInsert } from '../orm/one-row-insert';
import {
  EntityFacts,
  PropertyFacts,
  ReadableFieldFacts,
  SERIALIZER_HOOKS,
  SERVICE_HOOKS,
  SerializerFacts,
  ServiceFacts,
} from '../plan/plan-facts';
import { isDefault } from '../serializers/default-hooks';
import { isModelSerializerClass } from '../serializers/model-proto-serializer';
import type { SerializerSpec } from '../serializers/serializer-spec';

/** A serializer class, as far as plans look at it. */
export type SerializerClassLike = Function & { spec(): SerializerSpec };

/** What a plan is decided from, of a model service instance (`GenericServiceBase` is one). */
export interface PlannedService {
  readonly leanReads: boolean;
  readonly writeTransactions: 'when-needed' | 'always';
  readonly serializerClass?: SerializerClassLike;
  /** The queryset of the class's options; `getQueryset()` may need a call, which start-up has not. */
  classQueryset(): { entity: Function; where: unknown; orderBy: unknown };
}

/** The facts of a service (its class, serializer and entity) on the ORM of `em`. */
export function planFactsOf(service: PlannedService, em: EntityManager): ServiceFacts {
  const queryset = service.classQueryset();
  const metadata = new FactsOfMetadata(em);
  const orderBy = queryset.orderBy as Record<string, unknown>;
  return {
    name: service.constructor.name,
    leanReads: service.leanReads,
    writeTransactions: service.writeTransactions,
    overridden: SERVICE_HOOKS.filter((hook) => hook in service && !isDefault(service, hook)),
    entity: metadata.entity(em.getMetadata().get(queryset.entity.name)),
    serializer: service.serializerClass && metadata.serializer(service.serializerClass),
    orderProperties: Object.keys(orderBy).filter((name) => typeof orderBy[name] !== 'object'),
    flushIsAtomic: em.getPlatform().supportsTransactions() && em.config.get('implicitTransactions') === true,
  };
}

/** Facts of entities and serializers, each gathered once per plan. */
class FactsOfMetadata {
  private readonly entities = new Map<EntityMetadata, EntityFacts>();
  private readonly serializers = new Map<Function, SerializerFacts>();

  constructor(private readonly em: EntityManager) {}

  entity(meta: EntityMetadata): EntityFacts {
    let facts = this.entities.get(meta);
    if (!facts) this.entities.set(meta, (facts = entityFactsOf(this.em, meta)));
    return facts;
  }

  serializer(serializer: SerializerClassLike): SerializerFacts {
    const known = this.serializers.get(serializer);
    if (known) return known;
    const overridden = SERIALIZER_HOOKS.filter((name) => !isDefault(serializer.prototype, name));
    if (!isModelSerializerClass(serializer)) {
      const facts: SerializerFacts = { name: serializer.name, model: false, overridden, readable: [], writable: [], nestedWrites: [] };
      this.serializers.set(serializer, facts);
      return facts;
    }
    const spec = serializer.spec();
    const readable: ReadableFieldFacts[] = [];
    const facts: SerializerFacts = {
      name: serializer.name,
      model: true,
      entity: this.entity(serializer.entityMetadata()),
      overridden,
      readable,
      writable: spec.writable.map((f) => ({ name: f.name, property: f.property, collection: f.kind === 'relations' })),
      nestedWrites: spec.nestedWrites.map((f) => f.name),
    };
    // Set before its nested serializers are read: a serializer may nest itself.
    this.serializers.set(serializer, facts);
    for (const f of spec.readable) {
      const nested = f.serializer && f.kind === 'relation' && !f.path ? (f.serializer as unknown as SerializerClassLike) : undefined;
      readable.push({
        name: f.name,
        property: f.property,
        collection: f.kind === 'relations',
        throughRelations: !!f.path,
        nested: nested && this.serializer(nested),
      });
    }
    return facts;
  }
}

function entityFactsOf(em: EntityManager, meta: EntityMetadata): EntityFacts {
  const properties: Record<string, PropertyFacts> = {};
  for (const [name, prop] of Object.entries(meta.properties as Record<string, EntityProperty>)) {
    properties[name] = { scalar: prop.kind === ReferenceKind.SCALAR, plainColumn: isPlainColumn(prop) };
  }
  const insert = OneRowInsert.for(em, meta);
  return {
    className: meta.className,
    primaryKeys: meta.primaryKeys,
    properties,
    columnsReason: ColumnReader.entityReason(em, meta),
    insertReason: 'reason' in insert ? insert.reason : undefined,
    unmanagedReason: insert instanceof OneRowInsert ? insert.unmanagedReason : undefined,
  };
}
