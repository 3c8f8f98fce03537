import type { CallContext } from '../call/call-context';
import type { ProtoMessage, ProtoSerializer } from '../serializers/proto-serializer';
import { markDefaults } from '../serializers/default-hooks';
import { Constructor, GenericServiceConstructor, nameMixin } from './constructor.type';

export interface CreateModelActions {
  /** Validates the message, saves a new object and returns it as a message. */
  Create(request: ProtoMessage, context: CallContext): Promise<ProtoMessage>;
  /** Saves the new object; override to set extra values, e.g. `serializer.save({ owner })`. */
  performCreate(serializer: ProtoSerializer<object>): Promise<unknown>;
}

/** Adds `Create`: all or nothing (see `GenericServiceBase.atomically`). @publicApi */
export function CreateModelMixin<TBase extends GenericServiceConstructor>(Base: TBase): TBase & Constructor<CreateModelActions> {
  class CreateModel extends Base implements CreateModelActions {
    async Create(request: ProtoMessage): Promise<ProtoMessage> {
      const serializer = this.getSerializer(null, { message: request });
      return this.atomically(async () => {
        await this.validateForWrite(serializer);
        await this.performCreate(serializer);
        return this.respond(serializer);
      });
    }

    async performCreate(serializer: ProtoSerializer<object>): Promise<unknown> {
      return serializer.save();
    }
  }
  markDefaults(CreateModel.prototype, ['Create', 'performCreate']);
  nameMixin(CreateModel, 'CreateModelMixin', Base);
  return CreateModel;
}
