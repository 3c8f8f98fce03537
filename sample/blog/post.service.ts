import { GrpcModelService, ModelService } from 'nestjs-grpc-framework';
import { Post } from './post.entity';
import { PostProtoSerializer } from './post.serializer';

@GrpcModelService({ service: 'blog_proto.PostController', serializer: PostProtoSerializer })
export class PostService extends ModelService(Post, { orderBy: { created: 'asc' } }) {}
