import { Global, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.tokens';
import { DiskSpace } from './disk-space';
import { ImageProcessor } from './image-processor';
import { MediaModule } from './media.module';
import { ResultStore } from './result-store';

// In the app the root module provides the config globally; this stands in for it.
@Global()
@Module({
  providers: [
    { provide: APP_CONFIG, useValue: { mediaRoot: '/srv/media', minFreeDiskMb: 500 } as AppConfig },
  ],
  exports: [APP_CONFIG],
})
class ConfigStub {}

describe('MediaModule', () => {
  it('provides and exports the media services', async () => {
    const module = await Test.createTestingModule({ imports: [ConfigStub, MediaModule] }).compile();

    expect(module.get(ImageProcessor)).toBeInstanceOf(ImageProcessor);
    expect(module.get(DiskSpace)).toBeInstanceOf(DiskSpace);
    expect(module.get(ResultStore).root).toBe('/srv/media');
  });
});
