import { ModelProtoSerializer } from 'nestjs-grpc-framework';
import { Snippet } from './snippet.entity';

/**
 * `language` is a `NullableString` oneof on the wire: the framework reads `value` as the
 * string, `null` as null and an unset oneof as "not sent", and writes it back the same way.
 */
export class SnippetProtoSerializer extends ModelProtoSerializer(Snippet, { fields: '__all__' }) {}
