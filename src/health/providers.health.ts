import { Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { SettingsService } from '../settings/settings.service';
import { withTimeout } from './with-timeout';

/**
 * Which providers have an API key. Reported, never fatal: a missing key only stops the slots that
 * use it, and calling the providers on every probe would cost quota and flap with their outages.
 */
@Injectable()
export class ProvidersHealth {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly settings: SettingsService,
  ) {}

  async configured(
    key: 'providers',
    timeoutMs: number,
  ): Promise<HealthIndicatorResult<'providers'>> {
    const check = this.indicators.check(key);
    try {
      const status = await withTimeout(this.settings.providerKeyStatus(), timeoutMs);
      const providers: Record<string, { configured: boolean }> = {};
      for (const [id, { configured }] of Object.entries(status)) providers[id] = { configured };
      return check.up(providers);
    } catch {
      // Reading the keys needs the database, whose own check reports the outage.
      return check.up({ message: 'Provider keys could not be read' });
    }
  }
}
