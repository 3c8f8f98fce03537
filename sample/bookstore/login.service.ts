import { status } from '@grpc/grpc-js';
import { GrpcAction, GrpcError, GrpcModelService, ProtoField, ProtoSerializer, Service } from 'nestjs-grpc-framework';
import { issueToken } from './bookstore-auth';
import { MemberSerializer } from './bookstore.serializers';
import { Member } from './member.entity';
import { verifyPassword } from './password';
import type { AuthController, LoginResponseInit } from '../types/bookstore';

// Checked when the email is unknown, so a wrong email takes as long as a wrong password.
const NO_MEMBER_HASH = 'scrypt$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

/**
 * What `Login` accepts, bounded as a member's fields are (an email column of 254 characters, a
 * password of at most 128): a longer value is refused before it reaches the database or scrypt.
 */
class LoginRequestSerializer extends ProtoSerializer {
  @ProtoField({ kind: 'string', maxLength: 254 }) email!: string;
  @ProtoField({ kind: 'string', writeOnly: true, maxLength: 128, trim: false }) password!: string;
}

/** `Login`: an email and password in, a bearer token for the other bookstore services out. */
@GrpcModelService('bookstore.AuthController')
export class LoginService extends Service implements AuthController {
  @GrpcAction({ request: LoginRequestSerializer, response: 'LoginResponse' })
  async Login({ email, password }: { email: string; password: string }): Promise<LoginResponseInit> {
    const member = await this.em.findOne(Member, { email });
    const matches = await verifyPassword(password, member?.passwordHash ?? NO_MEMBER_HASH);
    if (!member || !matches) throw new GrpcError(status.UNAUTHENTICATED, 'Wrong email or password.');
    return { token: issueToken(member), member: new MemberSerializer(member).message };
  }
}
