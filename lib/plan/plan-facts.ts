/**
 * What a service plan is decided from, as plain data gathered once when the server starts: the
 * service class's options and replaced hooks, its serializer's fields and replaced methods, and
 * what MikroORM's metadata and configuration allow. Nothing here reads a call.
 */
export interface ServiceFacts {
  /** The service class's name. */
  readonly name: string;
  readonly leanReads: boolean;
  readonly writeTransactions: 'when-needed' | 'always';
  /** The framework hooks the class replaces (of `SERVICE_HOOKS`). */
  readonly overridden: readonly ServiceHook[];
  /** The entity the service serves. */
  readonly entity: EntityFacts;
  /** The class's serializer, when it has one. */
  readonly serializer?: SerializerFacts;
  /** Properties of the class queryset's order: read with the columns, for the keyset of a page. */
  readonly orderProperties: readonly string[];
  /** Whether a flush outside a transaction runs in one of MikroORM's own (the platform has transactions, `implicitTransactions` is on). */
  readonly flushIsAtomic: boolean;
}

/** Service methods whose replacement changes a plan. */
export const SERVICE_HOOKS = [
  'getQueryset',
  'filterQueryset',
  'getObject',
  'Create',
  'performCreate',
  'performUpdate',
  'performDestroy',
] as const;
export type ServiceHook = (typeof SERVICE_HOOKS)[number];

/** Serializer methods whose replacement changes a plan. */
export const SERIALIZER_HOOKS = [
  'save',
  'create',
  'update',
  'validate',
  'toRepresentation',
  'dataToMessage',
  'message',
  'messages',
  'data',
] as const;
export type SerializerHook = (typeof SERIALIZER_HOOKS)[number];

/** An entity, as far as reading its rows as columns and inserting one with a compiled statement go. */
export interface EntityFacts {
  readonly className: string;
  readonly primaryKeys: readonly string[];
  /** Its properties by name. */
  readonly properties: Readonly<Record<string, PropertyFacts>>;
  /** Why none of its rows can be read as plain columns (the driver, inheritance, onLoad listeners, MikroORM filters). */
  readonly columnsReason?: string;
  /** Why a new row is not one compiled INSERT (it goes through MikroORM's flush). */
  readonly insertReason?: string;
  /** Why a new row cannot be inserted through an instance no EntityManager manages. */
  readonly unmanagedReason?: string;
}

export interface PropertyFacts {
  /** A scalar property (not a relation). */
  readonly scalar: boolean;
  /** Stored as one plain column that reads back as it is (no formula, lazy, embedded or unpersisted property). */
  readonly plainColumn: boolean;
}

/** A serializer class, as far as plans look at it. */
export interface SerializerFacts {
  readonly name: string;
  /** Whether it is a ModelProtoSerializer; when not, plans know nothing else of it. */
  readonly model: boolean;
  /** The entity it saves and reads (a model serializer's). */
  readonly entity?: EntityFacts;
  /** The methods it replaces (of `SERIALIZER_HOOKS`). */
  readonly overridden: readonly SerializerHook[];
  /** The fields it sends. */
  readonly readable: readonly ReadableFieldFacts[];
  /** The fields it writes. */
  readonly writable: readonly WritableFieldFacts[];
  /** Names of the nested objects it writes, rows of their own. */
  readonly nestedWrites: readonly string[];
}

export interface ReadableFieldFacts {
  /** The proto field's name. */
  readonly name: string;
  /** The entity property it reads. */
  readonly property: string;
  /** A collection (to-many relation). */
  readonly collection: boolean;
  /** Read through relations (a dotted source). */
  readonly throughRelations: boolean;
  /** The serializer of a nested to-one object it sends. */
  readonly nested?: SerializerFacts;
}

export interface WritableFieldFacts {
  readonly name: string;
  readonly property: string;
  /** A collection (to-many relation). */
  readonly collection: boolean;
}
