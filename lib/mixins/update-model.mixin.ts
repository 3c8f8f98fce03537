import type { CallContext } from '../server/call-context';
import type { ProtoMessage, ProtoSerializer } from '../serializers/proto-serializer';
import { Constructor, GenericServiceConstructor, nameMixin } from './constructor.type';

export interface UpdateModelActions {
  /** Replaces the object's writable fields with the message's (a full update) and returns it. */
  Update(request: ProtoMessage, context: CallContext): Promise<ProtoMessage>;
  /** Saves the changes; override to set extra values. */
  performUpdate(serializer: ProtoSerializer<object>): Promise<unknown>;
  /** Finds, validates and saves the object; `partial` limits the change to the fields sent. */
  updateObject(request: ProtoMessage, partial: boolean): Promise<ProtoMessage>;
}

/**
 * Adds `Update`: a full update. Message fields that are unset message types (wrappers,
 * nullable oneofs) keep their stored values; every plain field is written. The write is all
 * or nothing, as `CreateModelMixin`'s is.
 *
 * @publicApi
 */
export function UpdateModelMixin<TBase extends GenericServiceConstructor>(Base: TBase): TBase & Constructor<UpdateModelActions> {
  class UpdateModel extends Base implements UpdateModelActions {
    async Update(request: ProtoMessage): Promise<ProtoMessage> {
      return this.updateObject(request, false);
    }

    async performUpdate(serializer: ProtoSerializer<object>): Promise<unknown> {
      return serializer.save();
    }

    async updateObject(request: ProtoMessage, partial: boolean): Promise<ProtoMessage> {
      let serializer: ProtoSerializer<object> | undefined;
      return this.writeAtomically(
        async () => {
          const instance = await this.getObject();
          serializer = this.getSerializer(instance, { message: request, partial });
          await serializer.isValid({ raiseException: true });
          this.checkBeforeWrite(serializer);
          await this.performUpdate(serializer);
          return this.sendableMessage(serializer);
        },
        {
          shape: this.performUpdate === UpdateModel.prototype.performUpdate ? this.serializerSaveShape() : 'any',
          serializer: () => serializer,
        },
      );
    }
  }
  nameMixin(UpdateModel, 'UpdateModelMixin', Base);
  return UpdateModel;
}
