import { Module } from '@nestjs/common';
import { SettingsModule } from '../settings/settings.module';
import { GeminiDriver } from './gemini/gemini.driver';
import type { ProviderDriver } from './provider-driver';
import { PROVIDER_DRIVERS } from './provider-driver';
import { ProviderRegistry } from './provider-registry';
import { ProvidersController } from './providers.controller';
import { ProvidersService } from './providers.service';
import { SlotSettingsValidator } from './slot-settings-validator';
import { TurbotextDriver } from './turbotext/turbotext.driver';

/**
 * The provider catalogue, the checks built on it, and the drivers: each one is listed under the
 * `PROVIDER_DRIVERS` token, which `ProviderRegistry` resolves per slot.
 */
@Module({
  imports: [SettingsModule],
  controllers: [ProvidersController],
  providers: [
    ProvidersService,
    SlotSettingsValidator,
    GeminiDriver,
    TurbotextDriver,
    {
      provide: PROVIDER_DRIVERS,
      useFactory: (...drivers: ProviderDriver[]) => drivers,
      inject: [GeminiDriver, TurbotextDriver],
    },
    ProviderRegistry,
  ],
  exports: [SlotSettingsValidator, ProviderRegistry, GeminiDriver, TurbotextDriver],
})
export class ProvidersModule {}
