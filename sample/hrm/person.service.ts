import { GrpcModelService, ModelService, PartialUpdateModelMixin } from 'nestjs-grpc-framework';
import { Person } from './person.entity';
import { PersonProtoSerializer } from './person.serializer';

/** ModelService plus PartialUpdate, whose request uses google.protobuf.StringValue wrappers. */
@GrpcModelService({ service: 'hrm.PersonController', serializer: PersonProtoSerializer })
export class PersonService extends PartialUpdateModelMixin(ModelService(Person)) {}
