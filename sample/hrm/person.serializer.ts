import { IsEmail } from 'class-validator';
import { ModelProtoSerializer } from 'nestjs-grpc-framework';
import { Person } from './person.entity';

export class PersonProtoSerializer extends ModelProtoSerializer(Person, { fields: '__all__' }) {
  @IsEmail({}, { message: 'Enter a valid email address.' })
  email!: string;
}
