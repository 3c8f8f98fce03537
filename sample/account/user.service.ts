import { GrpcModelService, ModelService } from 'nestjs-grpc-framework';
import { User } from './user.entity';
import { UserProtoSerializer } from './user.serializer';

/** gRPC service that allows users to be retrieved or updated. */
@GrpcModelService({ service: 'account.UserController', serializer: UserProtoSerializer })
export class UserService extends ModelService(User, { orderBy: { dateJoined: 'desc', id: 'desc' } }) {}
