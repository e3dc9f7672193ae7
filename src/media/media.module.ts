import { Module } from '@nestjs/common';
import { SettingsModule } from '../settings/settings.module';
import { DiskSpace } from './disk-space';
import { ImageProcessor } from './image-processor';
import { MediaController } from './media.controller';
import { MediaObjectsRepository } from './media-objects.repository';
import { MediaObjectsService } from './media-objects.service';
import { ProviderMediaController } from './provider-media.controller';
import { ResultStore } from './result-store';
import { TemplateMediaController } from './template-media.controller';
import { TemplateMediaRepository } from './template-media.repository';
import { TemplateMediaService } from './template-media.service';
import { UploadReceiver } from './upload-receiver';

/** Template images, temporary provider links, result files and the uploads that feed them. */
@Module({
  imports: [SettingsModule],
  controllers: [TemplateMediaController, MediaController, ProviderMediaController],
  providers: [
    ImageProcessor,
    ResultStore,
    DiskSpace,
    UploadReceiver,
    MediaObjectsRepository,
    MediaObjectsService,
    TemplateMediaRepository,
    TemplateMediaService,
  ],
  exports: [
    ImageProcessor,
    ResultStore,
    DiskSpace,
    UploadReceiver,
    MediaObjectsService,
    TemplateMediaService,
  ],
})
export class MediaModule {}
