import type { CallContext } from '../call/call-context';
import type { ProtoMessage } from '../serializers/proto-serializer';
import { Constructor, GenericServiceConstructor, nameMixin } from './constructor.type';

export interface RetrieveModelActions {
  /** Returns the object named by the request's lookup field; NOT_FOUND when there is none. */
  Retrieve(request: ProtoMessage, context: CallContext): Promise<ProtoMessage>;
}

/** Adds `Retrieve`. @publicApi */
export function RetrieveModelMixin<TBase extends GenericServiceConstructor>(Base: TBase): TBase & Constructor<RetrieveModelActions> {
  class RetrieveModel extends Base implements RetrieveModelActions {
    Retrieve(): Promise<ProtoMessage> {
      // Without replicas (the hot path) just the read; with them, where it must run.
      return this.context.readsReplicas ? this.readWhereItMust(() => this.retrieveMessage()) : this.retrieveMessage();
    }

    /** The object named by the request, as its message. */
    private async retrieveMessage(): Promise<ProtoMessage> {
      const instance = await this.retrieveObject();
      return this.messageOf(instance);
    }
  }
  nameMixin(RetrieveModel, 'RetrieveModelMixin', Base);
  return RetrieveModel;
}
