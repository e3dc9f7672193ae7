import { Controller, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { SlotsService } from '../slots/slots.service';
import { CleanupService } from './cleanup.service';
import { CleanupReportDto, ScheduledDto } from './dto/cleanup-report.dto';
import { AppLogger } from '../common/app-logger';

@ApiTags('media')
@ApiBearerAuth()
@Controller('api')
export class CleanupController {
  constructor(
    private readonly cleanup: CleanupService,
    private readonly slots: SlotsService,
    private readonly logger: AppLogger,
  ) {}

  @Post('media/cache/purge')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Removes expired media and files no job points to, in the background',
    description: 'Never templates, never results that are still kept.',
  })
  @ApiAcceptedResponse({ type: ScheduledDto })
  purge(): ScheduledDto {
    this.cleanup.run({ trigger: 'purge' }).catch((error: unknown) =>
      this.logger.event('error', 'cleanup.failed', {
        trigger: 'purge',
        message: error instanceof Error ? error.message : String(error),
      }),
    );
    return { status: 'scheduled' };
  }

  @Post('slots/:id/cleanup')
  @HttpCode(200)
  @ApiOperation({ summary: "Deletes this slot's expired result files now" })
  @ApiOkResponse({ type: CleanupReportDto })
  @ApiNotFoundResponse({ description: '`slot_not_found`' })
  async cleanSlot(@Param('id') id: string): Promise<CleanupReportDto> {
    await this.slots.get(id);
    return this.cleanup.run({ slotId: id, trigger: 'slot' });
  }
}
