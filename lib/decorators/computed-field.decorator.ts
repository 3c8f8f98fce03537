import type { FieldKind } from '../serializers/field-spec';
import { addProtoField } from '../serializers/serializer-spec';

export interface ComputedFieldOptions {
  /** What the method returns; decides the proto type it may travel as. @default 'any' */
  kind?: FieldKind;
  /** The message field name. @default the method's name in snake_case */
  protoName?: string;
  /** The method may return null (sent as an unset field). @default false */
  nullable?: boolean;
  /**
   * The method takes all the objects being sent at once (a List batch, or the one object of a
   * Retrieve) and resolves with their values in the same order: one query for a batch instead
   * of one per object. @default false: it takes one object and returns its value
   */
  batch?: boolean;
}

/**
 * Makes a method of a serializer a read-only field whose value it computes (Django REST
 * framework's `SerializerMethodField`). The field takes the method's name:
 *
 * ```ts
 * class BookSerializer extends ModelProtoSerializer(Book, { fields: ['id', 'title'] }) {
 *   @ComputedField({ kind: 'string' })
 *   shelfLabel(book: Book): string {
 *     return book.title.slice(0, 3).toUpperCase();
 *   }
 *
 *   @ComputedField({ kind: 'float', nullable: true, batch: true })
 *   async averageRating(books: readonly Book[]): Promise<(number | null)[]> {
 *     // one query for all the books
 *   }
 * }
 * ```
 *
 * @publicApi
 */
export function ComputedField(options: ComputedFieldOptions = {}): MethodDecorator {
  return (target, property) => {
    addProtoField(target, String(property), {
      kind: options.kind,
      protoName: options.protoName,
      nullable: options.nullable,
      required: false,
      computed: options.batch ? 'batch' : 'each',
    });
  };
}
