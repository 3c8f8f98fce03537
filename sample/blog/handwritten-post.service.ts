import { status } from '@grpc/grpc-js';
import { GrpcModelService, ProtoMessage, Service } from 'nestjs-grpc-framework';
import { Post } from './post.entity';
import { PostProtoSerializer } from './post.serializer';

/** The tutorial's PostService, written by hand on `Service`. */
@GrpcModelService('blog_proto.PostController')
export class HandwrittenPostService extends Service {
  async *List(): AsyncGenerator<ProtoMessage> {
    const posts = await this.em.find(Post, {}, { orderBy: { created: 'asc', id: 'asc' } });
    yield* new PostProtoSerializer(posts, { many: true }).messages;
  }

  async Create(request: ProtoMessage): Promise<ProtoMessage> {
    const serializer = new PostProtoSerializer(null, { message: request, context: { em: this.em } });
    await serializer.isValid({ raiseException: true });
    await serializer.save();
    return serializer.message;
  }

  async getObject(pk: number): Promise<Post> {
    const post = await this.em.findOne(Post, { id: pk });
    if (!post) return this.context.abort(status.NOT_FOUND, `Post: ${pk} not found`);
    return post;
  }

  async Retrieve(request: { id: number }): Promise<ProtoMessage> {
    const post = await this.getObject(request.id);
    return new PostProtoSerializer(post).message;
  }

  async Update(request: ProtoMessage & { id: number }): Promise<ProtoMessage> {
    const post = await this.getObject(request.id);
    const serializer = new PostProtoSerializer(post, { message: request, context: { em: this.em } });
    await serializer.isValid({ raiseException: true });
    await serializer.save();
    return serializer.message;
  }

  async Destroy(request: { id: number }): Promise<object> {
    const post = await this.getObject(request.id);
    await this.em.removeAndFlush(post);
    return {};
  }
}
