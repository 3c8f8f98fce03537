import type { CallContext } from '../call/call-context';
import type { ProtoMessage, ProtoSerializer } from '../serializers/proto-serializer';
import { markDefaults } from '../serializers/default-hooks';
import { Constructor, GenericServiceConstructor, nameMixin } from './constructor.type';

export interface UpdateModelActions {
  /** Replaces the object's writable fields with the message's (a full update) and returns it. */
  Update(request: ProtoMessage, context: CallContext): Promise<ProtoMessage>;
  /** Changes only the fields the message carries (wrappers, `optional` fields, non-default scalars). */
  PartialUpdate(request: ProtoMessage, context: CallContext): Promise<ProtoMessage>;
  /** Finds, validates and saves the object; `partial` limits the change to the fields sent. */
  update(request: ProtoMessage, partial: boolean): Promise<ProtoMessage>;
  /** Saves the changes; override to set extra values. */
  performUpdate(serializer: ProtoSerializer<object>): Promise<unknown>;
}

/**
 * Adds `Update` (a full update: message fields that are unset message types, such as wrappers
 * and nullable oneofs, keep their stored values; every plain field is written) and
 * `PartialUpdate` (only the fields present), as Django REST framework's `update` and
 * `partial_update`. Use `google.protobuf.*Value` wrappers or proto3 `optional` in a
 * PartialUpdate request so "not sent" and "sent empty" differ. All or nothing, as Create.
 *
 * @publicApi
 */
export function UpdateModelMixin<TBase extends GenericServiceConstructor>(Base: TBase): TBase & Constructor<UpdateModelActions> {
  class UpdateModel extends Base implements UpdateModelActions {
    async Update(request: ProtoMessage): Promise<ProtoMessage> {
      return this.update(request, false);
    }

    async PartialUpdate(request: ProtoMessage): Promise<ProtoMessage> {
      return this.update(request, true);
    }

    async update(request: ProtoMessage, partial: boolean): Promise<ProtoMessage> {
      return this.atomically(async () => {
        const instance = await this.getObject();
        const serializer = this.getSerializer(instance, { message: request, partial });
        await this.validateForWrite(serializer);
        await this.performUpdate(serializer);
        return this.respond(serializer);
      });
    }

    async performUpdate(serializer: ProtoSerializer<object>): Promise<unknown> {
      return serializer.save();
    }
  }
  markDefaults(UpdateModel.prototype, ['performUpdate']);
  nameMixin(UpdateModel, 'UpdateModelMixin', Base);
  return UpdateModel;
}
