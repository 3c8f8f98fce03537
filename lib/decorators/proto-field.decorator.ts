import type { FieldOptions } from '../serializers/field-spec';
import { addProtoField } from '../serializers/serializer-spec';

/**
 * Declares a serializer field, or adjusts a field a `ModelProtoSerializer` derived from its
 * entity. Ordinary class-validator decorators on the same property add rules.
 *
 * ```ts
 * class PersonProtoSerializer extends ProtoSerializer {
 *   @ProtoField({ kind: 'string', maxLength: 100 }) name!: string;
 * }
 * ```
 *
 * @publicApi
 */
export function ProtoField(options: FieldOptions = {}): PropertyDecorator {
  return (target, property) => addProtoField(target, String(property), options);
}
