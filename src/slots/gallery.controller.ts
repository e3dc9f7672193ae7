import { Body, Controller, Delete, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiGoneResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiProduces,
  ApiTags,
  ApiUnauthorizedResponse,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { sendIndex } from '../admin-ui/admin-ui.controller';
import { AdminUiService } from '../admin-ui/admin-ui.service';
import { CurrentAdmin } from '../auth/current-admin.decorator';
import { DomainError, httpStatusFor } from '../common/domain-error';
import { Public } from '../common/public.decorator';
import { GalleryLinkDto, PublicGalleryDto, ShareGalleryDto } from './dto/gallery.dto';
import { GalleryService } from './gallery.service';
import { SLOT_ID_PARAM } from './slots.controller';

@ApiTags('slots')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: '`unauthorized`: no valid access token' })
@Controller('api/slots/:id/gallery')
export class GalleryController {
  constructor(private readonly galleries: GalleryService) {}

  @Post()
  @ApiOperation({
    summary: "Shares the slot's gallery for `hours` from now",
    description:
      'While a link works, sharing again keeps its token and moves its expiry; after a revoke or expiry a new link is made.',
  })
  @ApiParam(SLOT_ID_PARAM)
  @ApiCreatedResponse({ type: GalleryLinkDto })
  @ApiNotFoundResponse({ description: '`slot_not_found`' })
  @ApiUnprocessableEntityResponse({ description: '`validation_failed`: hours outside 1–168' })
  share(
    @Param('id') id: string,
    @Body() body: ShareGalleryDto,
    @CurrentAdmin() admin: string,
  ): Promise<GalleryLinkDto> {
    return this.galleries.share(id, body.hours, admin);
  }

  @Get()
  @ApiOperation({ summary: "The slot's working gallery link" })
  @ApiParam(SLOT_ID_PARAM)
  @ApiOkResponse({ type: GalleryLinkDto })
  @ApiNotFoundResponse({ description: '`slot_not_found`, or `gallery_not_found` when not shared' })
  current(@Param('id') id: string): Promise<GalleryLinkDto> {
    return this.galleries.current(id);
  }

  @Delete()
  @HttpCode(204)
  @ApiOperation({ summary: 'Revokes the link: it answers 410 from now on' })
  @ApiParam(SLOT_ID_PARAM)
  @ApiNoContentResponse({ description: 'Revoked (or there was nothing to revoke)' })
  @ApiNotFoundResponse({ description: '`slot_not_found`' })
  revoke(@Param('id') id: string, @CurrentAdmin() admin: string): Promise<void> {
    return this.galleries.revoke(id, admin);
  }
}

@ApiTags('public')
@Public()
@Controller('public/galleries')
export class PublicGalleryController {
  constructor(
    private readonly galleries: GalleryService,
    private readonly ui: AdminUiService,
  ) {}

  @Get(':token')
  @ApiOperation({
    summary: 'A shared slot gallery',
    description:
      'JSON for `Accept: application/json`; otherwise the admin console’s public gallery page (with the same status).',
  })
  @ApiProduces('application/json', 'text/html')
  @ApiOkResponse({ type: PublicGalleryDto })
  @ApiNotFoundResponse({ description: '`gallery_not_found`' })
  @ApiGoneResponse({ description: '`gallery_expired`: expired or revoked' })
  async gallery(
    @Param('token') token: string,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    const wantsPage = request.accepts(['html', 'json']) === 'html' && this.ui.isBuilt();
    if (!wantsPage) {
      const gallery = await this.galleries.publicGallery(token);
      response.set({ 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' }).json(gallery);
      return;
    }
    let status = 200;
    try {
      await this.galleries.publicGallery(token);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      status = httpStatusFor(error.code);
    }
    // The page reads the JSON itself and says why a link does not work.
    response.set('Referrer-Policy', 'no-referrer');
    sendIndex(this.ui, response, status);
  }
}
