import { Module } from '@nestjs/common';
import { IngestModule } from '../ingest/ingest.module';
import { MediaModule } from '../media/media.module';
import { SlotsModule } from '../slots/slots.module';
import { CleanupController } from './cleanup.controller';
import { CleanupRepository } from './cleanup.repository';
import { CleanupScheduler } from './cleanup.scheduler';
import { CleanupService } from './cleanup.service';

/** Expiry of results and temporary media: every 15 minutes, on demand, and from `npm run cleanup`. */
@Module({
  imports: [IngestModule, MediaModule, SlotsModule],
  controllers: [CleanupController],
  providers: [CleanupService, CleanupRepository, CleanupScheduler],
  exports: [CleanupService],
})
export class CleanupModule {}
