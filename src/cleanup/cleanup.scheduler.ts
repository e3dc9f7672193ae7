import { Injectable } from '@nestjs/common';
import { Cron } from '@nestjs/schedule';
import { AppLogger } from '../common/app-logger';
import { CleanupService } from './cleanup.service';

/** The in-process sweep every 15 minutes (`npm run cleanup` does the same from cron). */
@Injectable()
export class CleanupScheduler {
  constructor(
    private readonly cleanup: CleanupService,
    private readonly logger: AppLogger,
  ) {}

  @Cron('0 */15 * * * *', { name: 'cleanup' })
  async sweep(): Promise<void> {
    try {
      await this.cleanup.run({ trigger: 'schedule' });
    } catch (error) {
      this.logger.event('error', 'cleanup.failed', {
        trigger: 'schedule',
        message: error instanceof Error ? error.message : String(error),
      });
    }
  }
}
