import type { CallContext } from '../server/call-context';
import type { ProtoMessage, ProtoSerializer } from '../serializers/proto-serializer';
import { Constructor, GenericServiceConstructor, nameMixin } from './constructor.type';

export interface CreateModelActions {
  /** Validates the message, saves a new object and returns it as a message. */
  Create(request: ProtoMessage, context: CallContext): Promise<ProtoMessage>;
  /** Saves the new object; override to set extra values, e.g. `serializer.save({ owner })`. */
  performCreate(serializer: ProtoSerializer<object>): Promise<unknown>;
}

/**
 * Adds `Create`. The write is all or nothing (see `writeAtomically`): an overridden
 * `performCreate` or serializer save runs, with the validation, in a transaction.
 *
 * @publicApi
 */
export function CreateModelMixin<TBase extends GenericServiceConstructor>(Base: TBase): TBase & Constructor<CreateModelActions> {
  class CreateModel extends Base implements CreateModelActions {
    async Create(request: ProtoMessage): Promise<ProtoMessage> {
      const serializer = this.getSerializer(undefined, { message: request });
      return this.writeAtomically(
        async () => {
          await serializer.isValid({ raiseException: true });
          this.checkBeforeWrite(serializer);
          await this.performCreate(serializer);
          return this.sendableMessage(serializer);
        },
        {
          shape: this.performCreate === CreateModel.prototype.performCreate ? this.serializerSaveShape() : 'any',
          serializer: () => serializer,
        },
      );
    }

    async performCreate(serializer: ProtoSerializer<object>): Promise<unknown> {
      return serializer.save();
    }
  }
  nameMixin(CreateModel, 'CreateModelMixin', Base);
  return CreateModel;
}
