import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { AppLogger } from '../common/app-logger';
import { Clock } from '../common/clock';
import { JobsRepository } from './jobs.repository';

/** At start-up, jobs left running by a process that died are finalised as `interrupted`. */
@Injectable()
export class JobRecovery implements OnApplicationBootstrap {
  constructor(
    private readonly jobs: JobsRepository,
    private readonly clock: Clock,
    private readonly logger: AppLogger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.finaliseInterrupted();
  }

  async finaliseInterrupted(): Promise<number> {
    const count = await this.jobs.finaliseInterrupted(this.clock.now());
    if (count > 0) this.logger.event('warn', 'jobs.interrupted', { count });
    return count;
  }
}
