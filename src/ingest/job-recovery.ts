import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { AppLogger } from '../common/app-logger';
import { Clock } from '../common/clock';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.tokens';
import { EmbeddedPostgres } from '../database/embedded-postgres';
import { MediaObjectsService } from '../media/media-objects.service';
import { ResultStore } from '../media/result-store';
import { JobsRepository } from './jobs.repository';
import { RunningJobs } from './running-jobs';

/**
 * Finalises jobs left running by a process that died (`interrupted`), at start-up and from the
 * cleanup run, and drops what they left: temporary provider links, half-written result folders.
 */
@Injectable()
export class JobRecovery implements OnApplicationBootstrap {
  constructor(
    private readonly jobs: JobsRepository,
    private readonly running: RunningJobs,
    private readonly mediaObjects: MediaObjectsService,
    private readonly store: ResultStore,
    private readonly clock: Clock,
    private readonly logger: AppLogger,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // On its own embedded PostgreSQL this process is the only server: whatever is still running
    // in the database, or half-uploaded in MEDIA_ROOT/tmp, belonged to a previous run that died.
    // Shared databases keep SPEC's grace: another instance may still be finishing its jobs.
    const alone =
      this.config.databaseUrl === undefined &&
      EmbeddedPostgres.startedByThisProcess(this.config.dataDir);
    if (alone) {
      const swept = await this.store.removeStaleTemp();
      if (swept.files > 0) this.logger.event('info', 'temp.swept', { ...swept });
    }
    await this.finaliseInterrupted({ everyActive: alone });
  }

  async finaliseInterrupted(options: { everyActive?: boolean } = {}): Promise<number> {
    const finalised = await this.jobs.finaliseInterrupted(this.clock.now(), {
      everyActive: options.everyActive,
      except: this.running.ids,
    });
    if (finalised.length === 0) return 0;
    this.logger.event('warn', 'jobs.interrupted', { count: finalised.length });
    for (const job of finalised) {
      try {
        await this.mediaObjects.releaseJob(job.id);
        // Files of a job that never completed are no result: nothing may link to them.
        await this.store.remove(job.slotId, job.id);
      } catch (error) {
        // The cleanup run's expiry and orphan sweeps get them later.
        this.logger.event('warn', 'jobs.interrupted_cleanup_failed', {
          job_id: job.id,
          message: error instanceof Error ? error.message : String(error),
        });
      }
    }
    return finalised.length;
  }
}
