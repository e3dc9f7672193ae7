import { Controller, Delete, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiConflictResponse,
  ApiConsumes,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { CurrentAdmin } from '../auth/current-admin.decorator';
import { TemplateMediaDto } from './dto/template-media.dto';
import { TemplateMediaService } from './template-media.service';

@ApiTags('template-media')
@ApiBearerAuth()
@Controller('api/template-media')
export class TemplateMediaController {
  constructor(private readonly templates: TemplateMediaService) {}

  @Post('register')
  @ApiConsumes('multipart/form-data')
  @ApiBody({
    schema: {
      type: 'object',
      required: ['file'],
      properties: {
        file: { type: 'string', format: 'binary', description: 'JPEG, PNG or WEBP' },
        slot_id: { type: 'string', example: 'slot-001' },
        media_kind: { type: 'string', example: 'style' },
      },
    },
  })
  @ApiCreatedResponse({ type: TemplateMediaDto })
  register(@Req() request: Request, @CurrentAdmin() admin: string): Promise<TemplateMediaDto> {
    return this.templates.register(request, admin);
  }

  @Get(':id/preview')
  @ApiOkResponse({ description: 'A WEBP preview, at most 512 px' })
  @ApiNotFoundResponse({ description: '`media_not_found`' })
  async preview(@Param('id') id: string, @Res() response: Response): Promise<void> {
    const file = await this.templates.previewFile(id);
    response.set('Cache-Control', 'private, no-store');
    response.type('image/webp').sendFile(file);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiNotFoundResponse({ description: '`media_not_found`' })
  @ApiConflictResponse({ description: '`template_in_use`: a slot still uses it' })
  delete(@Param('id') id: string, @CurrentAdmin() admin: string): Promise<void> {
    return this.templates.delete(id, admin);
  }
}
