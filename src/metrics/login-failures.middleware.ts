import { Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { MetricsService } from './metrics.service';

/**
 * Counts refused admin logins from the answer's status, so the auth code needs no knowledge of
 * metrics: 401 `invalid_credentials` and 429 `throttled` (a brute force goes on being counted).
 */
@Injectable()
export class LoginFailuresMiddleware implements NestMiddleware {
  constructor(private readonly metrics: MetricsService) {}

  use(_request: Request, response: Response, next: NextFunction): void {
    response.once('finish', () => {
      if (response.statusCode === 401 || response.statusCode === 429) this.metrics.loginFailed();
    });
    next();
  }
}
