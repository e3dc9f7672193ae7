import { Controller, Get, Param, Res } from '@nestjs/common';
import { ApiGoneResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '../common/public.decorator';
import { sendFile } from './file-sender';
import { MediaObjectsService } from './media-objects.service';

@ApiTags('public')
@Public()
@Controller('public/provider-media')
export class ProviderMediaController {
  constructor(private readonly media: MediaObjectsService) {}

  @Get(':id')
  @ApiOkResponse({ description: 'The image, while its link lives (`T_sync_response` seconds)' })
  @ApiNotFoundResponse({ description: '`media_not_found`' })
  @ApiGoneResponse({ description: '`media_expired`' })
  async get(@Param('id') id: string, @Res() response: Response): Promise<void> {
    const file = await this.media.open(id);
    response.status(200).set({
      'Content-Type': file.mimeType,
      'Content-Length': String(file.sizeBytes),
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    });
    await sendFile(response, file);
  }
}
