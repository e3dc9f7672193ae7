import { Module } from '@nestjs/common';
import { DiskSpace } from './disk-space';
import { ImageProcessor } from './image-processor';
import { ResultStore } from './result-store';

/** Template images, temporary provider links and result files. */
@Module({
  providers: [ImageProcessor, ResultStore, DiskSpace],
  exports: [ImageProcessor, ResultStore, DiskSpace],
})
export class MediaModule {}
