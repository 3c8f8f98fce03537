import type { CallContext } from '../server/call-context';
import type { ProtoMessage } from '../serializers/proto-serializer';
import { Constructor, GenericServiceConstructor, nameMixin } from './constructor.type';
import { UpdateModelActions, UpdateModelMixin } from './update-model.mixin';

export interface PartialUpdateModelActions extends UpdateModelActions {
  /** Changes only the fields the message carries (wrappers, `optional` fields, non-default scalars). */
  PartialUpdate(request: ProtoMessage, context: CallContext): Promise<ProtoMessage>;
}

/**
 * Adds `PartialUpdate` (and `Update`, which it builds on). Use `google.protobuf.*Value`
 * wrappers or proto3 `optional` in the request message so "not sent" and "sent empty" differ.
 *
 * @publicApi
 */
export function PartialUpdateModelMixin<TBase extends GenericServiceConstructor>(
  Base: TBase,
): TBase & Constructor<PartialUpdateModelActions> {
  const WithUpdate = UpdateModelMixin(Base);
  class PartialUpdateModel extends WithUpdate implements PartialUpdateModelActions {
    async PartialUpdate(request: ProtoMessage): Promise<ProtoMessage> {
      return this.updateObject(request, true);
    }
  }
  nameMixin(PartialUpdateModel, 'PartialUpdateModelMixin', Base);
  return PartialUpdateModel;
}
