import type { CallContext } from '../call/call-context';
import type { ProtoMessage } from '../serializers/proto-serializer';
import { markDefaults } from '../serializers/default-hooks';
import { Constructor, GenericServiceConstructor, nameMixin } from './constructor.type';

export interface DestroyModelActions {
  /** Deletes the object named by the request's lookup field and returns `google.protobuf.Empty`. */
  Destroy(request: ProtoMessage, context: CallContext): Promise<Record<string, never>>;
  /** Deletes the object; override for soft deletes. */
  performDestroy(instance: object): Promise<void>;
}

/** Adds `Destroy`: all or nothing, as Create. @publicApi */
export function DestroyModelMixin<TBase extends GenericServiceConstructor>(Base: TBase): TBase & Constructor<DestroyModelActions> {
  class DestroyModel extends Base implements DestroyModelActions {
    async Destroy(): Promise<Record<string, never>> {
      await this.atomically(async () => {
        const instance = await this.getObject();
        this.context.throwIfDeadlinePassed();
        await this.performDestroy(instance);
      });
      return {};
    }

    async performDestroy(instance: object): Promise<void> {
      this.em.remove(instance);
      await this.em.flush();
    }
  }
  markDefaults(DestroyModel.prototype, ['performDestroy']);
  nameMixin(DestroyModel, 'DestroyModelMixin', Base);
  return DestroyModel;
}
