import { Controller, Get, Param, Res } from '@nestjs/common';
import {
  ApiGoneResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Public } from '../common/public.decorator';
import { JobsService, ResultFile } from './jobs.service';

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
    await send(response, await this.jobs.resultFile(jobId, 'payload'), 'attachment');
  }

  @Get(':jobId/preview')
  @ApiProduces('image/webp')
  @ApiOkResponse({ description: 'A WEBP preview, at most 512 px' })
  @ApiNotFoundResponse({ description: '`result_not_found`' })
  @ApiGoneResponse({ description: '`result_expired`' })
  async preview(@Param('jobId') jobId: string, @Res() response: Response): Promise<void> {
    await send(response, await this.jobs.resultFile(jobId, 'preview'), 'inline');
  }
}

async function send(
  response: Response,
  file: ResultFile,
  disposition: 'attachment' | 'inline',
): Promise<void> {
  const { size } = await stat(file.absolutePath);
  response.status(200).set({
    'Content-Type': file.mimeType,
    'Content-Length': String(size),
    'Content-Disposition': `${disposition}; filename="${file.downloadName}"`,
    // Links are public but results expire: let browsers keep them briefly, never shared caches.
    'Cache-Control': 'private, max-age=300',
    'X-Content-Type-Options': 'nosniff',
  });
  createReadStream(file.absolutePath).pipe(response);
}
