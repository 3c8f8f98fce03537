import { CreateModelMixin } from './create-model.mixin';
import { DestroyModelMixin } from './destroy-model.mixin';
import { ListModelMixin } from './list-model.mixin';
import { RetrieveModelMixin } from './retrieve-model.mixin';
import { UpdateModelMixin } from './update-model.mixin';
import type { EntityClass } from '../serializers/model-proto-serializer';
import { GenericService, GenericServiceOptions } from '../services/generic-service';

// Concrete services are only compositions of GenericService and mixins.

/** `Create`. @publicApi */
export const CreateService = <T extends object>(entity: EntityClass<T>, options?: GenericServiceOptions<T>) =>
  CreateModelMixin(GenericService(entity, options));

/** `List` (server streaming). @publicApi */
export const ListService = <T extends object>(entity: EntityClass<T>, options?: GenericServiceOptions<T>) =>
  ListModelMixin(GenericService(entity, options));

/** `Retrieve`. @publicApi */
export const RetrieveService = <T extends object>(entity: EntityClass<T>, options?: GenericServiceOptions<T>) =>
  RetrieveModelMixin(GenericService(entity, options));

/** `Update`. @publicApi */
export const UpdateService = <T extends object>(entity: EntityClass<T>, options?: GenericServiceOptions<T>) =>
  UpdateModelMixin(GenericService(entity, options));

/** `Destroy`. @publicApi */
export const DestroyService = <T extends object>(entity: EntityClass<T>, options?: GenericServiceOptions<T>) =>
  DestroyModelMixin(GenericService(entity, options));

/** `List` and `Retrieve`. @publicApi */
export const ReadOnlyModelService = <T extends object>(entity: EntityClass<T>, options?: GenericServiceOptions<T>) =>
  RetrieveModelMixin(ListModelMixin(GenericService(entity, options)));

/** `List`, `Create`, `Retrieve`, `Update` and `Destroy`. @publicApi */
export const ModelService = <T extends object>(entity: EntityClass<T>, options?: GenericServiceOptions<T>) =>
  DestroyModelMixin(UpdateModelMixin(RetrieveModelMixin(CreateModelMixin(ListModelMixin(GenericService(entity, options))))));
