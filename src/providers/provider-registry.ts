import { Inject, Injectable } from '@nestjs/common';
import type { ProviderId } from './provider-catalog';
import type { ProviderDriver } from './provider-driver';
import { PROVIDER_DRIVERS } from './provider-driver';

/** Picks the driver for a slot's provider among every registered `ProviderDriver`. */
@Injectable()
export class ProviderRegistry {
  private readonly drivers = new Map<ProviderId, ProviderDriver>();

  constructor(@Inject(PROVIDER_DRIVERS) drivers: ProviderDriver[]) {
    for (const driver of drivers) {
      if (this.drivers.has(driver.provider)) {
        throw new Error(`Two drivers are registered for provider "${driver.provider}"`);
      }
      this.drivers.set(driver.provider, driver);
    }
  }

  /** The provider's driver, or undefined while none is registered (a slot is then not ready). */
  find(provider: ProviderId): ProviderDriver | undefined {
    return this.drivers.get(provider);
  }

  /** Throws a plain Error for a provider without a driver, for callers that already checked. */
  driverFor(provider: ProviderId): ProviderDriver {
    const driver = this.find(provider);
    if (!driver) throw new Error(`No driver is registered for provider "${provider}"`);
    return driver;
  }
}
