import { Injectable } from '@nestjs/common';
import { SettingsService } from '../settings/settings.service';
import { ProviderDto } from './dto/provider.dto';
import { PROVIDER_CATALOG } from './provider-catalog';

@Injectable()
export class ProvidersService {
  constructor(private readonly settings: SettingsService) {}

  /** The catalogue the admin UI builds slot forms from, with each provider's key status. */
  async list(): Promise<ProviderDto[]> {
    const keys = await this.settings.providerKeyStatus();
    return PROVIDER_CATALOG.map((provider) => ({
      id: provider.id,
      name: provider.name,
      configured: keys[provider.id]?.configured ?? false,
      operations: provider.operations.map((operation) => ({
        id: operation.id,
        name: operation.name,
        required_templates: [...operation.requiredTemplates],
        optional_templates: [...operation.optionalTemplates],
        max_templates_per_kind: operation.maxTemplatesPerKind,
        settings_schema: operation.settingsSchema,
      })),
    }));
  }
}
