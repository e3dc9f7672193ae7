import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import { AppLogger } from '../common/app-logger';
import { DomainError } from '../common/domain-error';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.tokens';

/** `/metrics` is public unless METRICS_TOKEN is set; then it needs `Authorization: Bearer <token>`. */
@Injectable()
export class MetricsTokenGuard implements CanActivate {
  private readonly expected: Buffer | undefined;

  constructor(@InjectConfig() config: AppConfig, logger: AppLogger) {
    logger.redactValue(config.metricsToken);
    this.expected = config.metricsToken === undefined ? undefined : digest(config.metricsToken);
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.expected) return true;
    const header = context.switchToHttp().getRequest<Request>().headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    // Equal-length digests, so the comparison time says nothing about the token.
    if (match?.[1] && timingSafeEqual(digest(match[1]), this.expected)) return true;
    throw new DomainError('unauthorized', 'The metrics need the METRICS_TOKEN as a bearer token', {
      headers: { 'WWW-Authenticate': 'Bearer realm="metrics"' },
    });
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}
