import { Module } from '@nestjs/common';
import { SettingsModule } from '../settings/settings.module';
import { ProvidersController } from './providers.controller';
import { ProvidersService } from './providers.service';
import { SlotSettingsValidator } from './slot-settings-validator';

/**
 * The provider catalogue and the checks built on it. The drivers join this module behind the
 * `ProviderDriver` token (provider-driver.ts, gemini/, turbotext/) and are exported from here too.
 */
@Module({
  imports: [SettingsModule],
  controllers: [ProvidersController],
  providers: [ProvidersService, SlotSettingsValidator],
  exports: [SlotSettingsValidator],
})
export class ProvidersModule {}
