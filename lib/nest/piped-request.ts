import type { ArgumentMetadata, PipeTransform, Type } from '@nestjs/common';

/**
 * A handler's Nest pipes (`@UsePipes`, global pipes), run on its request message before the
 * handler, as Nest runs them on a microservice handler's payload: each pipe gets what the one
 * before returned, with the type of the handler's first parameter as `metatype` (a DTO class
 * lets `ValidationPipe` validate and transform the message).
 */
export class PipedRequest {
  private constructor(
    private readonly pipes: readonly PipeTransform[],
    private readonly metadata: ArgumentMetadata,
  ) {}

  /** The pipes of `instance[method]`, or undefined when it has none. */
  static of(pipes: readonly PipeTransform[], instance: object, method: string): PipedRequest | undefined {
    if (!pipes.length) return undefined;
    const parameterTypes = Reflect.getMetadata('design:paramtypes', instance, method) as Type[] | undefined;
    return new PipedRequest(pipes, { type: 'body', metatype: parameterTypes?.[0], data: undefined });
  }

  async apply<T>(request: T): Promise<T> {
    let value: unknown = request;
    for (const pipe of this.pipes) value = await pipe.transform(value, this.metadata);
    return value as T;
  }
}
