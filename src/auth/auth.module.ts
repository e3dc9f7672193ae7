import { Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { RuntimeSecrets } from '../config/runtime-secrets';
import { AdminAccounts } from './admin-accounts.service';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { JwtStrategy } from './jwt.strategy';
import { LoginThrottleRepository } from './login-throttle.repository';

/** Admin sign-in, the accounts file and the JWT strategy behind the global JwtAuthGuard. */
@Module({
  imports: [
    JwtModule.registerAsync({
      inject: [RuntimeSecrets],
      useFactory: (secrets: RuntimeSecrets) => ({
        secret: secrets.jwtSigningKey,
        signOptions: { algorithm: 'HS256' },
      }),
    }),
  ],
  controllers: [AuthController],
  providers: [AdminAccounts, AuthService, LoginThrottleRepository, JwtStrategy],
})
export class AuthModule {}
