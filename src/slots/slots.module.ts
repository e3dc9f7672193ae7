import { Module } from '@nestjs/common';
import { ProvidersModule } from '../providers/providers.module';
import { PublicUrlCheck } from './public-url-check';
import { SlotsController } from './slots.controller';
import { SlotsRepository } from './slots.repository';
import { SlotsService } from './slots.service';

/** The 15 fixed slots: read, and replaced whole under an optimistic lock. */
@Module({
  imports: [ProvidersModule],
  controllers: [SlotsController],
  providers: [SlotsService, SlotsRepository, PublicUrlCheck],
  exports: [SlotsService, SlotsRepository],
})
export class SlotsModule {}
