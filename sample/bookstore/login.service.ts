import { status } from '@grpc/grpc-js';
import { FieldViolation, GrpcError, GrpcModelService, ProtoMessage, Service, ValidationFailedError } from 'nestjs-grpc-framework';
import { issueToken } from './bookstore-auth';
import { MemberSerializer } from './bookstore.serializers';
import { Member } from './member.entity';
import { verifyPassword } from './password';

// Checked when the email is unknown, so a wrong email takes as long as a wrong password.
const NO_MEMBER_HASH = 'scrypt$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

/** `Login`: an email and password in, a bearer token for the other bookstore services out. */
@GrpcModelService('bookstore.AuthController')
export class LoginService extends Service {
  async Login(request: { email: string; password: string }): Promise<ProtoMessage> {
    const violations: FieldViolation[] = [];
    if (!request.email) violations.push({ field: 'email', description: 'This field is required.', reason: 'REQUIRED' });
    if (!request.password) violations.push({ field: 'password', description: 'This field is required.', reason: 'REQUIRED' });
    if (violations.length) throw new ValidationFailedError(violations);

    const member = await this.em.findOne(Member, { email: request.email });
    const matches = await verifyPassword(request.password, member?.passwordHash ?? NO_MEMBER_HASH);
    if (!member || !matches) throw new GrpcError(status.UNAUTHENTICATED, 'Wrong email or password.');
    return { token: issueToken(member), member: new MemberSerializer(member).message };
  }
}
