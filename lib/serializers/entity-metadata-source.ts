import type { EntityMetadata, MetadataStorage } from '@mikro-orm/core';
import { ImproperlyConfiguredError } from '../errors/improperly-configured.error';
import { registerEntityHint } from '../errors/startup-hints';

let source: MetadataStorage | undefined;

/**
 * Gives model serializers the discovered entity metadata. `GrpcFrameworkModule` calls it when
 * the application starts; call it yourself to use model serializers without the module.
 *
 * @publicApi
 */
export function useEntityMetadata(metadata: MetadataStorage): void {
  source = metadata;
}

export function entityMetadataOf(entity: Function, user: string): EntityMetadata {
  const meta = source?.find(entity.name);
  if (!meta) {
    throw new ImproperlyConfiguredError(
      source
        ? `${user}: entity ${entity.name} is not known to MikroORM. ${registerEntityHint(entity.name)}`
        : `${user}: entity metadata is not available yet. Model serializers read it from MikroORM once the app has started ` +
            '(GrpcFrameworkModule does this); outside an app call useEntityMetadata(orm.getMetadata()) first.',
    );
  }
  return meta;
}
