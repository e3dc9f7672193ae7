import { applyDecorators, Controller, Headers, Param, Post, Req, Res } from '@nestjs/common';
import {
  ApiBody,
  ApiConsumes,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiProduces,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Public } from '../common/public.decorator';
import { sendJobAnswer } from './job-answer';
import { IngestService } from './ingest.service';

const ERRORS: Array<[number, string]> = [
  [400, '`invalid_request`: broken multipart, missing `password` or `fileToUpload`'],
  [401, '`invalid_password`'],
  [404, '`slot_not_found`'],
  [409, '`slot_not_ready` (inactive, no provider or no API key) or `cancelled`'],
  [413, '`payload_too_large` (decided from `Content-Length` before the body when possible)'],
  [415, '`unsupported_media_type`: not JPEG/PNG/WEBP, undecodable, or too many pixels'],
  [429, '`slot_busy`, with `Retry-After`'],
  [502, '`blocked`, `provider_error` or `bad_response`'],
  [503, '`provider_unavailable`, `quota`, `network` or `storage_full`'],
  [504, '`timeout`: the deadline passed; the job is final'],
];

/** The §4 error table, documented on every route that runs the ingest pipeline. */
export const ApiIngestErrors = (): MethodDecorator =>
  applyDecorators(...ERRORS.map(([status, description]) => ApiResponse({ status, description })));

@ApiTags('ingest')
@Controller()
export class IngestController {
  constructor(private readonly ingest: IngestService) {}

  @Public()
  @Post(['ingest/:slotId', 'api/ingest/:slotId'])
  @ApiOperation({
    summary:
      'A booth posts a photo; the answer is the edited photo (or an error) before the deadline',
  })
  @ApiParam({ name: 'slotId', example: 'slot-001' })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Marks exact retries' })
  @ApiConsumes('multipart/form-data')
  @ApiBody({
    schema: {
      type: 'object',
      required: ['fileToUpload', 'password'],
      properties: {
        fileToUpload: {
          type: 'string',
          format: 'binary',
          description: 'JPEG, PNG or WEBP (`file` also accepted)',
        },
        password: { type: 'string', description: 'The global ingest password' },
        hash: { type: 'string' },
        time: { type: 'string' },
        id: { type: 'string' },
      },
      additionalProperties: { type: 'string' },
    },
  })
  @ApiProduces('image/jpeg', 'image/png', 'image/webp')
  @ApiOkResponse({
    description:
      'The edited photo; headers `X-Job-Id`, `X-Result-Url`, `X-Deduplicated` on exact retries',
  })
  @ApiIngestErrors()
  async post(
    @Param('slotId') slotId: string,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    sendJobAnswer(response, await this.ingest.ingest(slotId, request, idempotencyKey));
  }
}
