import { Module } from '@nestjs/common';
import { MediaModule } from '../media/media.module';
import { ProvidersModule } from '../providers/providers.module';
import { SettingsModule } from '../settings/settings.module';
import { SlotsModule } from '../slots/slots.module';
import { IngestPreflight } from './ingest-preflight';
import { IngestController } from './ingest.controller';
import { IngestService } from './ingest.service';
import { JobRecovery } from './job-recovery';
import { JobRunner } from './job-runner';
import { JobsController } from './jobs.controller';
import { JobsRepository } from './jobs.repository';
import { JobsService } from './jobs.service';
import { ProviderLimiter } from './provider-limiter';
import { ResultsController } from './results.controller';
import { RunningJobs } from './running-jobs';
import { TestRunController } from './test-run.controller';

/**
 * `POST /ingest/{slot_id}`: a booth's photo in, the edited photo out before the deadline; the
 * `job` records, their public results, cancel and test-runs.
 */
@Module({
  imports: [SettingsModule, SlotsModule, ProvidersModule, MediaModule],
  controllers: [IngestController, TestRunController, JobsController, ResultsController],
  providers: [
    IngestService,
    IngestPreflight,
    JobRunner,
    JobsRepository,
    JobsService,
    ProviderLimiter,
    RunningJobs,
    JobRecovery,
  ],
  exports: [JobsRepository, JobRecovery, IngestPreflight],
})
export class IngestModule {}
