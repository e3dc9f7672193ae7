import { Controller, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiCreatedResponse, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { RegisteredMediaDto } from './dto/template-media.dto';
import { MediaObjectsService } from './media-objects.service';

@ApiTags('media')
@ApiBearerAuth()
@Controller('api/media')
export class MediaController {
  constructor(private readonly media: MediaObjectsService) {}

  @Post('register')
  @ApiConsumes('multipart/form-data')
  @ApiBody({
    schema: {
      type: 'object',
      required: ['file'],
      properties: { file: { type: 'string', format: 'binary' } },
    },
  })
  @ApiCreatedResponse({
    type: RegisteredMediaDto,
    description: 'A public link that lives `T_sync_response` seconds and cannot be extended',
  })
  async register(@Req() request: Request): Promise<RegisteredMediaDto> {
    const published = await this.media.registerUpload(request);
    return {
      id: published.id,
      public_url: published.publicUrl,
      expires_at: published.expiresAt.toISOString(),
    };
  }
}
