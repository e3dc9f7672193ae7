import { Controller, Get, Param, Res } from '@nestjs/common';
import {
  ApiGoneResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '../common/public.decorator';
import { sendFile } from '../media/file-sender';
import { JobsService, OpenResult } from './jobs.service';

@ApiTags('public')
@Public()
@Controller('public/results')
export class ResultsController {
  constructor(private readonly jobs: JobsService) {}

  @Get(':jobId')
  @ApiProduces('image/jpeg', 'image/png', 'image/webp')
  @ApiOkResponse({ description: 'The result file, as an attachment' })
  @ApiNotFoundResponse({ description: '`result_not_found`' })
  @ApiGoneResponse({ description: '`result_expired`' })
  async download(@Param('jobId') jobId: string, @Res() response: Response): Promise<void> {
    await send(response, await this.jobs.openResult(jobId, 'payload'), 'attachment');
  }

  @Get(':jobId/preview')
  @ApiProduces('image/webp')
  @ApiOkResponse({ description: 'A WEBP preview, at most 512 px' })
  @ApiNotFoundResponse({ description: '`result_not_found`' })
  @ApiGoneResponse({ description: '`result_expired`' })
  async preview(@Param('jobId') jobId: string, @Res() response: Response): Promise<void> {
    await send(response, await this.jobs.openResult(jobId, 'preview'), 'inline');
  }
}

async function send(
  response: Response,
  file: OpenResult,
  disposition: 'attachment' | 'inline',
): Promise<void> {
  response.status(200).set({
    'Content-Type': file.mimeType,
    'Content-Length': String(file.sizeBytes),
    'Content-Disposition': `${disposition}; filename="${file.downloadName}"`,
    // Links are public but results expire: let browsers keep them briefly, never shared caches.
    'Cache-Control': 'private, max-age=300',
    'X-Content-Type-Options': 'nosniff',
  });
  await sendFile(response, file);
}
