import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { DomainError } from '../common/domain-error';
import { IS_PUBLIC } from '../common/public.decorator';

/** The global guard: every route needs an admin's token unless it is marked `@Public()`. */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic) return true;
    return super.canActivate(context) as Promise<boolean>;
  }

  /** Token problems become 401 `unauthorized`; anything else (an unreadable accounts file) stays a 500. */
  override handleRequest<TUser>(error: unknown, user: TUser | false, info: unknown): TUser {
    if (error instanceof Error) throw error;
    if (user && !error) return user;
    const missing = info instanceof Error && info.message === 'No auth token';
    throw new DomainError(
      'unauthorized',
      missing
        ? 'Sign in first: a valid access token is required'
        : 'The access token is not valid: sign in again',
    );
  }
}
