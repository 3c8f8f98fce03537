import type { ProtoSerializerClass } from '../serializers/proto-serializer';

/** Options of `@GrpcModelService` (and `@GrpcService`). */
export interface GrpcModelServiceOptions {
  /** The fully qualified proto service this class implements, e.g. `blog_proto.PostController`. */
  service: string;
  /** The serializer of a model service (sets `serializerClass`). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  serializer?: ProtoSerializerClass<any>;
  /** Entity property used to find one object. @default the primary key */
  lookupField?: string;
  /** Request field that holds the lookup value. @default `lookupField` in snake_case */
  lookupRequestField?: string;
  /** Rows read per query while streaming a List. @default 500 */
  listBatchSize?: number;
}
