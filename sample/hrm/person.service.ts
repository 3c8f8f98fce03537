import { GrpcModelService, ModelService } from 'nestjs-grpc-framework';
import { Person } from './person.entity';
import { PersonProtoSerializer } from './person.serializer';

/** ModelService's PartialUpdate (its request uses google.protobuf.StringValue wrappers) is served too. */
@GrpcModelService({ service: 'hrm.PersonController', serializer: PersonProtoSerializer })
export class PersonService extends ModelService(Person) {}
