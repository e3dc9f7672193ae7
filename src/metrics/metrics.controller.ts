import { Controller, Get, Res, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { PrometheusController } from '@willsoto/nestjs-prometheus';
import type { Response } from 'express';
import { Public } from '../common/public.decorator';
import { MetricsService } from './metrics.service';
import { MetricsTokenGuard } from './metrics-token.guard';

/**
 * `GET /metrics` (the path is set by PrometheusModule). The library's own controller reads
 * prom-client's process-wide registry; this one serves the app's own.
 */
@ApiTags('ops')
@Public()
@UseGuards(MetricsTokenGuard)
@Controller()
export class MetricsController extends PrometheusController {
  constructor(private readonly metrics: MetricsService) {
    super();
  }

  @Get()
  @ApiOperation({
    summary: 'Prometheus metrics (`photochanger_*` plus Node process metrics)',
    description:
      'Public unless `METRICS_TOKEN` is set; then `Authorization: Bearer <METRICS_TOKEN>` is required.',
  })
  @ApiBearerAuth()
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'Prometheus text exposition format 0.0.4' })
  @ApiUnauthorizedResponse({ description: '`unauthorized`: METRICS_TOKEN is set and was not sent' })
  override async index(@Res({ passthrough: true }) response: Response): Promise<string> {
    response.setHeader('Content-Type', this.metrics.contentType);
    response.setHeader('Cache-Control', 'no-store');
    return this.metrics.exposition();
  }
}
