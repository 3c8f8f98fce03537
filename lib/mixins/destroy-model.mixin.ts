import type { CallContext } from '../server/call-context';
import type { ProtoMessage } from '../serializers/proto-serializer';
import { Constructor, GenericServiceConstructor, nameMixin } from './constructor.type';

export interface DestroyModelActions {
  /** Deletes the object named by the request's lookup field and returns `google.protobuf.Empty`. */
  Destroy(request: ProtoMessage, context: CallContext): Promise<Record<string, never>>;
  /** Deletes the object; override for soft deletes. */
  performDestroy(instance: object): Promise<void>;
}

/** Adds `Destroy`. @publicApi */
export function DestroyModelMixin<TBase extends GenericServiceConstructor>(Base: TBase): TBase & Constructor<DestroyModelActions> {
  class DestroyModel extends Base implements DestroyModelActions {
    async Destroy(): Promise<Record<string, never>> {
      await this.writeAtomically(
        async () => {
          const instance = await this.getObject();
          this.context.throwIfDeadlinePassed();
          await this.performDestroy(instance);
        },
        // The default delete is one flush (deletes may cascade); an override runs in a transaction.
        { shape: this.performDestroy === DestroyModel.prototype.performDestroy ? 'one-flush' : 'any' },
      );
      return {};
    }

    async performDestroy(instance: object): Promise<void> {
      this.em.remove(instance);
      await this.em.flush();
    }
  }
  nameMixin(DestroyModel, 'DestroyModelMixin', Base);
  return DestroyModel;
}
