import {
  CreateModelMixin,
  DestroyModelMixin,
  GenericService,
  GrpcModelService,
  ListModelMixin,
  RetrieveModelMixin,
  UpdateModelMixin,
} from 'nestjs-grpc-framework';
import { Post } from './post.entity';
import { PostProtoSerializer } from './post.serializer';

@GrpcModelService({ service: 'blog_proto.PostController', serializer: PostProtoSerializer })
export class PostService extends DestroyModelMixin(
  UpdateModelMixin(RetrieveModelMixin(CreateModelMixin(ListModelMixin(GenericService(Post))))),
) {}
