import type { ProviderId } from './provider-catalog';
import type { ProviderDriver } from './provider-driver';
import { ProviderRegistry } from './provider-registry';

function driver(provider: ProviderId): ProviderDriver {
  return {
    provider,
    attempts: () => [{}],
    process: () => Promise.reject(new Error('not called')),
  };
}

describe('ProviderRegistry', () => {
  it('returns the driver registered for a provider', () => {
    const gemini = driver('gemini');
    const turbotext = driver('turbotext');

    const registry = new ProviderRegistry([gemini, turbotext]);

    expect(registry.driverFor('gemini')).toBe(gemini);
    expect(registry.driverFor('turbotext')).toBe(turbotext);
    expect(registry.find('gemini')).toBe(gemini);
  });

  it('finds nothing, or throws, for a provider without a driver', () => {
    const registry = new ProviderRegistry([driver('gemini')]);

    expect(registry.find('turbotext')).toBeUndefined();

    expect(() => registry.driverFor('turbotext')).toThrow(
      'No driver is registered for provider "turbotext"',
    );
  });

  it('refuses two drivers for one provider', () => {
    expect(() => new ProviderRegistry([driver('gemini'), driver('gemini')])).toThrow(/Two drivers/);
  });
});
