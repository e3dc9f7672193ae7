import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { ProviderDto } from './dto/provider.dto';
import { ProvidersService } from './providers.service';

@ApiTags('providers')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: '`unauthorized`: no valid access token' })
@Controller('api/providers')
export class ProvidersController {
  constructor(private readonly providers: ProvidersService) {}

  @Get()
  @ApiOkResponse({ type: [ProviderDto], description: 'Providers, their operations and settings' })
  list(): Promise<ProviderDto[]> {
    return this.providers.list();
  }
}
