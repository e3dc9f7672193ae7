import { Controller, Param, Post, Req, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ApiIngestErrors } from './ingest.controller';
import { IngestService } from './ingest.service';
import { sendJobAnswer } from './job-answer';

@ApiTags('slots')
@ApiBearerAuth()
@Controller('api/slots')
export class TestRunController {
  constructor(private readonly ingest: IngestService) {}

  @Post(':id/test-run')
  @ApiOperation({
    summary: 'Runs a photo through the slot as the booth would (works on inactive slots)',
  })
  @ApiParam({ name: 'id', example: 'slot-001' })
  @ApiConsumes('multipart/form-data')
  @ApiBody({
    schema: {
      type: 'object',
      required: ['test_image'],
      properties: { test_image: { type: 'string', format: 'binary' } },
    },
  })
  @ApiProduces('image/jpeg', 'image/png', 'image/webp')
  @ApiOkResponse({ description: 'The edited photo, with `X-Job-Id` and `X-Result-Url`' })
  @ApiIngestErrors()
  async run(
    @Param('id') id: string,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    sendJobAnswer(response, await this.ingest.testRun(id, request));
  }
}
