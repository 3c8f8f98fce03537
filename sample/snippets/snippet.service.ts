import { GrpcModelService, ModelService } from 'nestjs-grpc-framework';
import { Snippet } from './snippet.entity';
import { SnippetProtoSerializer } from './snippet.serializer';

@GrpcModelService({ service: 'snippets.SnippetController', serializer: SnippetProtoSerializer })
export class SnippetService extends ModelService(Snippet) {}
