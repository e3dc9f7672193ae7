import { Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiNoContentResponse,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentAdmin } from '../auth/current-admin.decorator';
import { Public } from '../common/public.decorator';
import { JobStatusDto } from './dto/job-status.dto';
import { JobsService } from './jobs.service';

@ApiTags('jobs')
@Controller('api/jobs')
export class JobsController {
  constructor(private readonly jobs: JobsService) {}

  @Public()
  @Get(':jobId')
  @ApiOkResponse({ type: JobStatusDto })
  @ApiNotFoundResponse({ description: '`job_not_found`' })
  status(@Param('jobId') jobId: string): Promise<JobStatusDto> {
    return this.jobs.status(jobId);
  }

  @Post(':jobId/cancel')
  @HttpCode(200)
  @ApiBearerAuth()
  @ApiOkResponse({ type: JobStatusDto, description: 'The job, now `cancelled`' })
  @ApiNotFoundResponse({ description: '`job_not_found`' })
  @ApiConflictResponse({ description: '`job_final`: the job had already finished' })
  cancel(@Param('jobId') jobId: string): Promise<JobStatusDto> {
    return this.jobs.cancel(jobId);
  }

  @Delete(':jobId/result')
  @HttpCode(204)
  @ApiBearerAuth()
  @ApiNoContentResponse({ description: 'Deleted; the public link answers 410 from now on' })
  @ApiNotFoundResponse({
    description: '`job_not_found`, or `result_not_found` for a job without one',
  })
  deleteResult(@Param('jobId') jobId: string, @CurrentAdmin() admin: string): Promise<void> {
    return this.jobs.deleteResult(jobId, admin);
  }
}
