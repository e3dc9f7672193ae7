import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { RuntimeSecrets } from '../config/runtime-secrets';
import { AuthService } from './auth.service';
import { AuthenticatedAdmin } from './current-admin.decorator';

/**
 * Checks the bearer token's signature; AuthService judges the rest. Passport keeps strategies
 * in a process-wide registry, so the last app booted in a process owns the name "jwt".
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(
    secrets: RuntimeSecrets,
    private readonly auth: AuthService,
  ) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKey: secrets.jwtSigningKey,
      algorithms: ['HS256'],
      // Expiry is decided by the injected Clock in AuthService, like every other time rule.
      ignoreExpiration: true,
    });
  }

  validate(payload: unknown): Promise<AuthenticatedAdmin> {
    return this.auth.authenticate(payload);
  }
}
