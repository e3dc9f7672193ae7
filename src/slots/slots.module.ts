import { Module } from '@nestjs/common';
import { AdminUiModule } from '../admin-ui/admin-ui.module';
import { ProvidersModule } from '../providers/providers.module';
import { GalleryController, PublicGalleryController } from './gallery.controller';
import { GalleryRepository } from './gallery.repository';
import { GalleryService } from './gallery.service';
import { PublicUrlCheck } from './public-url-check';
import { SlotsController } from './slots.controller';
import { SlotsRepository } from './slots.repository';
import { SlotsService } from './slots.service';

/** The 15 fixed slots: read, replaced whole under an optimistic lock, and their shared galleries. */
@Module({
  imports: [ProvidersModule, AdminUiModule],
  controllers: [SlotsController, GalleryController, PublicGalleryController],
  providers: [SlotsService, SlotsRepository, PublicUrlCheck, GalleryService, GalleryRepository],
  exports: [SlotsService, SlotsRepository],
})
export class SlotsModule {}
