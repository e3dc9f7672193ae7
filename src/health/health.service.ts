import { Injectable, ServiceUnavailableException } from '@nestjs/common';
import {
  HealthCheckResult,
  HealthCheckService,
  HealthIndicatorResult,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';
import { AppLogger } from '../common/app-logger';
import { APP_VERSION } from './app-version';
import { ProvidersHealth } from './providers.health';
import { StorageHealth } from './storage.health';

/** Terminus' usual body plus the running version. */
export type ReadinessReport = HealthCheckResult & { version: string };

// A readiness probe usually gives up after a few seconds; answer well before.
const PROBE_TIMEOUT_MS = 1500;

/** `/healthz`: can this instance take a booth's photo now? */
@Injectable()
export class HealthService {
  private lastFailing = '';

  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly storage: StorageHealth,
    private readonly providers: ProvidersHealth,
    private readonly logger: AppLogger,
  ) {}

  async readiness(): Promise<ReadinessReport> {
    let result: HealthCheckResult;
    try {
      result = await this.health.check([
        () => this.pingDatabase(),
        () => this.storage.writable('media'),
        () => this.storage.freeDisk('disk'),
        () => this.providers.configured('providers', PROBE_TIMEOUT_MS),
      ]);
    } catch (error) {
      // Terminus reports a failed check as a 503 exception carrying the same body.
      if (!(error instanceof ServiceUnavailableException)) throw error;
      result = error.getResponse() as HealthCheckResult;
    }
    this.logTransition(result);
    const { status, ...checks } = result;
    return { status, version: APP_VERSION, ...checks };
  }

  /** Terminus' ping says only "down"; ops get a hint where to look. */
  private async pingDatabase(): Promise<HealthIndicatorResult<'database'>> {
    const result = await this.database.pingCheck('database', { timeout: PROBE_TIMEOUT_MS });
    const database = result.database;
    if (database.status === 'down' && database.message === undefined) {
      database.message =
        'PostgreSQL did not answer SELECT 1: is it running and accepting connections?';
    }
    return result;
  }

  /** One line when readiness is lost or regained, not one per probe. */
  private logTransition(result: HealthCheckResult): void {
    const failing = Object.keys(result.error ?? {})
      .sort()
      .join(',');
    if (failing === this.lastFailing) return;
    this.lastFailing = failing;
    if (failing) {
      this.logger.event('warn', 'health.not_ready', { failing, error: result.error });
    } else {
      this.logger.event('info', 'health.ready');
    }
  }
}
