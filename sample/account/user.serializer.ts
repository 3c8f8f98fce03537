import { IsEmail, Matches } from 'class-validator';
import { ModelProtoSerializer } from 'nestjs-grpc-framework';
import { User } from './user.entity';

export class UserProtoSerializer extends ModelProtoSerializer(User, { fields: ['id', 'username', 'email', 'groups'] }) {
  @Matches(/^[\w.@+-]+$/u, {
    message: 'Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.',
  })
  username!: string;

  @IsEmail({}, { message: 'Enter a valid email address.' })
  email!: string;
}
