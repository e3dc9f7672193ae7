import { Module } from '@nestjs/common';

/** Template images, temporary provider links and result files. */
@Module({})
export class MediaModule {}
