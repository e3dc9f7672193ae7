import { Controller, Get, Res } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { HealthCheck } from '@nestjs/terminus';
import type { Response } from 'express';
import { Public } from '../common/public.decorator';
import { HealthService, ReadinessReport } from './health.service';

const INDICATOR = {
  type: 'object',
  additionalProperties: {
    type: 'object',
    properties: { status: { type: 'string', enum: ['up', 'down'] } },
    additionalProperties: true,
  },
};

function readinessSchema(status: 'ok' | 'error'): Record<string, unknown> {
  return {
    type: 'object',
    required: ['status', 'version', 'details'],
    properties: {
      status: { type: 'string', enum: [status] },
      version: { type: 'string', example: '0.1.0' },
      info: INDICATOR,
      error: INDICATOR,
      details: INDICATOR,
    },
  };
}

@ApiTags('ops')
@Public()
@Controller('healthz')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Get()
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  @ApiOperation({
    summary: 'Readiness: database, media folders writable, free disk; providers reported',
    description:
      'Providers are reported under `info.providers` but never make the check fail. The 503 body ' +
      'is terminus\' health-check shape (`status: "error"`, `info`, `error`, `details`), not the ' +
      'usual `{"status":"error","failure_reason",…}` error body: load balancers and probes read it.',
  })
  @ApiOkResponse({ description: 'Ready', schema: readinessSchema('ok') })
  @ApiServiceUnavailableResponse({
    description: 'Not ready: `error` names the failing checks',
    schema: readinessSchema('error'),
  })
  async readiness(@Res({ passthrough: true }) response: Response): Promise<ReadinessReport> {
    const report = await this.health.readiness();
    response.status(report.status === 'ok' ? 200 : 503);
    return report;
  }

  @Get('live')
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  @ApiOperation({ summary: 'Liveness: the process answers (no dependency is checked)' })
  @ApiOkResponse({
    schema: { type: 'object', properties: { status: { type: 'string', enum: ['ok'] } } },
  })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }
}
