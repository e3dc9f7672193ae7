import { Body, Controller, Get, Put } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiConflictResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { CurrentAdmin } from '../auth/current-admin.decorator';
import { SettingsDto } from './dto/settings.dto';
import { UpdateSettingsDto } from './dto/update-settings.dto';
import { SettingsService } from './settings.service';

@ApiTags('settings')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: '`unauthorized`: no valid access token' })
@Controller('api/settings')
export class SettingsController {
  constructor(private readonly settings: SettingsService) {}

  @Get()
  @ApiOperation({ summary: 'The global settings; secrets appear only as status' })
  @ApiOkResponse({ type: SettingsDto })
  get(): Promise<SettingsDto> {
    return this.settings.getSettings();
  }

  @Put()
  @ApiOperation({ summary: 'Change some settings; fields left out keep their values' })
  @ApiOkResponse({ type: SettingsDto })
  @ApiConflictResponse({ description: '`version_conflict`: `version` is stale' })
  @ApiUnprocessableEntityResponse({
    description: '`validation_failed`: `errors` maps dotted paths to messages',
  })
  update(@Body() body: UpdateSettingsDto, @CurrentAdmin() admin: string): Promise<SettingsDto> {
    return this.settings.updateSettings(body, admin);
  }
}
