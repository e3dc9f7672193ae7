import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';

/** What the JWT guard leaves on `req.user` once a token checks out. */
export interface AuthenticatedAdmin {
  username: string;
}

/** The signed-in admin's username, for `updated_by` columns and audit rows. */
export const CurrentAdmin = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): string => {
    const req = ctx.switchToHttp().getRequest<Request & { user?: AuthenticatedAdmin }>();
    // The global guard runs first, so a protected handler always sees a user here.
    return req.user?.username ?? '';
  },
);
