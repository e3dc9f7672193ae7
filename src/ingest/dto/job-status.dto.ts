import { ApiProperty } from '@nestjs/swagger';
import type { JobStatus } from '../job.entity';

const STATUSES: JobStatus[] = [
  'pending',
  'processing',
  'completed',
  'failed_timeout',
  'failed_provider',
  'failed_internal',
  'cancelled',
];

export class JobStatusDto {
  @ApiProperty({ format: 'uuid' })
  job_id!: string;

  @ApiProperty({ example: 'slot-001' })
  slot_id!: string;

  @ApiProperty({ enum: STATUSES })
  status!: JobStatus;

  @ApiProperty({ type: String, nullable: true, example: 'timeout' })
  failure_reason!: string | null;

  @ApiProperty({ format: 'date-time' })
  started_at!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  finished_at!: string | null;

  @ApiProperty({ type: Number, nullable: true })
  duration_ms!: number | null;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Public link while the result is kept',
  })
  result_url!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  result_expires_at!: string | null;
}
