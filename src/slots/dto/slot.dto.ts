import { ApiProperty } from '@nestjs/swagger';
import { PROVIDER_IDS, TEMPLATE_KINDS } from '../../providers/provider-catalog';
import type { ProviderId } from '../../providers/provider-catalog';
import type { JobStatus } from '../../ingest/job.entity';

const JOB_STATUSES: readonly JobStatus[] = [
  'pending',
  'processing',
  'completed',
  'failed_timeout',
  'failed_provider',
  'failed_internal',
  'cancelled',
];

export class SlotSummaryDto {
  @ApiProperty({ example: 'slot-001' })
  id!: string;

  @ApiProperty()
  display_name!: string;

  @ApiProperty({ enum: PROVIDER_IDS, nullable: true, type: String })
  provider!: ProviderId | null;

  @ApiProperty({ nullable: true, type: String, example: 'image_edit' })
  operation!: string | null;

  @ApiProperty()
  is_active!: boolean;

  @ApiProperty({ example: 1 })
  version!: number;

  @ApiProperty({ format: 'date-time' })
  updated_at!: string;

  @ApiProperty({ example: 'https://booth.example.com/ingest/slot-001' })
  ingest_url!: string;

  @ApiProperty({ format: 'date-time', nullable: true, type: String })
  last_job_at!: string | null;

  @ApiProperty({ enum: JOB_STATUSES, nullable: true, type: String })
  last_status!: JobStatus | null;
}

export class TemplateBindingDto {
  @ApiProperty({ enum: TEMPLATE_KINDS })
  media_kind!: string;

  @ApiProperty({ format: 'uuid' })
  template_media_id!: string;

  @ApiProperty({ example: 'image/png' })
  mime_type!: string;

  @ApiProperty()
  width!: number;

  @ApiProperty()
  height!: number;

  @ApiProperty({ description: 'Admin route; fetch it with the access token' })
  preview_url!: string;
}

export class RecentResultDto {
  @ApiProperty({ format: 'uuid' })
  job_id!: string;

  @ApiProperty()
  result_url!: string;

  @ApiProperty()
  preview_url!: string;

  @ApiProperty({ format: 'date-time' })
  finished_at!: string;

  @ApiProperty({ format: 'date-time' })
  expires_at!: string;

  @ApiProperty({ example: 'image/jpeg' })
  mime_type!: string;
}

export class SlotDetailDto extends SlotSummaryDto {
  @ApiProperty({ type: 'object', additionalProperties: true })
  settings!: Record<string, unknown>;

  @ApiProperty({ nullable: true, type: String })
  updated_by!: string | null;

  @ApiProperty({ type: [TemplateBindingDto] })
  template_media!: TemplateBindingDto[];

  @ApiProperty({ type: [RecentResultDto], description: 'Up to 10, newest first' })
  recent_results!: RecentResultDto[];

  @ApiProperty({
    type: [String],
    required: false,
    description:
      'Problems the admin should know about, e.g. a provider that cannot reach our links',
  })
  warnings?: string[];
}
