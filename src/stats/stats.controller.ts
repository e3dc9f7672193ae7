import { Controller, Get, Param, Query } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiParam,
  ApiTags,
  ApiUnauthorizedResponse,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { SlotStatsDetailDto, StatsOverviewDto, SystemStatsDto } from './dto/stats.dto';
import { StatsWindowQueryDto } from './dto/stats-query.dto';
import { StatsService } from './stats.service';

@ApiTags('stats')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: '`unauthorized`: no valid access token' })
@ApiUnprocessableEntityResponse({
  description: '`validation_failed`: `window_minutes` is not a whole number from 5 to 4320',
})
@Controller('api/stats')
export class StatsController {
  constructor(private readonly stats: StatsService) {}

  // Declared before `:slot_id`, which would otherwise take these paths.
  @Get('overview')
  @ApiOkResponse({ type: StatsOverviewDto, description: 'The statistics page in one call' })
  overview(@Query() query: StatsWindowQueryDto): Promise<StatsOverviewDto> {
    return this.stats.overview(query.window_minutes);
  }

  @Get('global')
  @ApiOkResponse({ type: SystemStatsDto, description: 'The `system` object of the overview' })
  global(@Query() query: StatsWindowQueryDto): Promise<SystemStatsDto> {
    return this.stats.system(query.window_minutes);
  }

  @Get(':slot_id')
  @ApiParam({ name: 'slot_id', example: 'slot-001', description: '`slot-001` … `slot-015`' })
  @ApiOkResponse({
    type: SlotStatsDetailDto,
    description: 'One `slots` element of the overview, with the slot’s own series',
  })
  @ApiNotFoundResponse({ description: '`slot_not_found`' })
  slot(
    @Param('slot_id') slotId: string,
    @Query() query: StatsWindowQueryDto,
  ): Promise<SlotStatsDetailDto> {
    return this.stats.slot(slotId, query.window_minutes);
  }
}
