import { ModelProtoSerializer } from 'nestjs-grpc-framework';
import { Post } from './post.entity';

export class PostProtoSerializer extends ModelProtoSerializer(Post, { fields: ['id', 'title', 'content'] }) {}
