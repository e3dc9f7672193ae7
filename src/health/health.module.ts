import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { MediaModule } from '../media/media.module';
import { SettingsModule } from '../settings/settings.module';
import { HealthController } from './health.controller';
import { HealthService } from './health.service';
import { ProvidersHealth } from './providers.health';
import { StorageHealth } from './storage.health';

/** `/healthz` (readiness) and `/healthz/live` (liveness) for probes and load balancers. */
@Module({
  // Terminus would log every failed probe; HealthService logs only the transitions.
  imports: [TerminusModule.forRoot({ logger: false }), MediaModule, SettingsModule],
  controllers: [HealthController],
  providers: [HealthService, StorageHealth, ProvidersHealth],
})
export class HealthModule {}
