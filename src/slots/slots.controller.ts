import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiParam,
  ApiTags,
  ApiUnauthorizedResponse,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { CurrentAdmin } from '../auth/current-admin.decorator';
import { SlotDetailDto, SlotSummaryDto } from './dto/slot.dto';
import { UpdateSlotDto } from './dto/update-slot.dto';
import { SlotsService } from './slots.service';

/** The `{id}` path parameter of every slot route. */
export const SLOT_ID_PARAM = {
  name: 'id',
  example: 'slot-001',
  description: '`slot-001` … `slot-015`',
};

@ApiTags('slots')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: '`unauthorized`: no valid access token' })
@Controller('api/slots')
export class SlotsController {
  constructor(private readonly slots: SlotsService) {}

  @Get()
  @ApiOkResponse({ type: [SlotSummaryDto], description: 'All 15 slots, ordered by id' })
  list(): Promise<SlotSummaryDto[]> {
    return this.slots.list();
  }

  @Get(':id')
  @ApiParam(SLOT_ID_PARAM)
  @ApiOkResponse({
    type: SlotDetailDto,
    description: 'The slot with its templates and recent results',
  })
  @ApiNotFoundResponse({ description: '`slot_not_found`' })
  get(@Param('id') id: string): Promise<SlotDetailDto> {
    return this.slots.get(id);
  }

  @Put(':id')
  @ApiParam(SLOT_ID_PARAM)
  @ApiOkResponse({ type: SlotDetailDto, description: 'The saved slot, at its new version' })
  @ApiNotFoundResponse({ description: '`slot_not_found`' })
  @ApiConflictResponse({ description: '`version_conflict`: someone saved the slot meanwhile' })
  @ApiUnprocessableEntityResponse({
    description: '`validation_failed`, with every problem in `errors` keyed by dotted path',
  })
  update(
    @Param('id') id: string,
    @Body() body: UpdateSlotDto,
    @CurrentAdmin() admin: string,
  ): Promise<SlotDetailDto> {
    return this.slots.update(id, body, admin);
  }
}
