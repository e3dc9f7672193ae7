import { ApiProperty } from '@nestjs/swagger';

const COUNT = { type: 'integer', minimum: 0 } as const;
const RATE = { type: Number, nullable: true, minimum: 0, maximum: 1 } as const;
const MILLISECONDS = { type: 'integer', nullable: true, example: 21_500 } as const;

export class SystemStatsDto {
  @ApiProperty({ ...COUNT, description: 'Booth (`ingest`) jobs ever recorded' })
  jobs_total!: number;

  @ApiProperty({ ...COUNT, description: 'Booth jobs started in the window' })
  jobs_last_window!: number;

  @ApiProperty({ ...COUNT, description: 'Booth jobs of the window that ended `failed_timeout`' })
  timeouts_last_window!: number;

  @ApiProperty({ ...COUNT, description: 'Booth jobs of the window that ended `failed_provider`' })
  provider_errors_last_window!: number;

  @ApiProperty({
    description:
      'MiB of result files still on disk plus template images, from the sizes recorded in the database',
    example: 512.25,
  })
  storage_usage_mb!: number;

  @ApiProperty({
    ...RATE,
    example: 0.9375,
    description: 'Completed / finished booth jobs of the window; null when none finished',
  })
  success_rate_last_window!: number | null;

  @ApiProperty({
    ...RATE,
    example: 0.0313,
    description: 'Timed out / finished booth jobs of the window; null when none finished',
  })
  timeout_rate_last_window!: number | null;

  @ApiProperty({
    ...MILLISECONDS,
    description:
      '95th percentile (PostgreSQL `percentile_cont(0.95)`, rounded to the ms) of `duration_ms` of the completed booth jobs of the window',
  })
  p95_duration_ms_last_window!: number | null;

  @ApiProperty({
    ...COUNT,
    description: 'Booth jobs pending or processing whose deadline has not passed',
  })
  jobs_in_flight!: number;

  @ApiProperty({
    ...COUNT,
    description: '`ui_test` jobs (admins trying slots) started in the window',
  })
  test_runs_last_window!: number;
}

export class SlotStatsDto {
  @ApiProperty({ example: 'slot-001' })
  slot_id!: string;

  @ApiProperty()
  display_name!: string;

  @ApiProperty()
  is_active!: boolean;

  @ApiProperty({ ...COUNT, description: 'Booth jobs ever recorded for the slot' })
  jobs_total!: number;

  @ApiProperty(COUNT)
  jobs_last_window!: number;

  @ApiProperty(COUNT)
  timeouts_last_window!: number;

  @ApiProperty(COUNT)
  provider_errors_last_window!: number;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  last_success_at!: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    example: 'timeout',
    description:
      '`failure_reason` of the latest failed booth job, whenever it was (`cancelled` is not a failure)',
  })
  last_error_reason!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  last_error_at!: string | null;

  @ApiProperty({ ...RATE, description: 'Completed / finished booth jobs of the window' })
  success_rate!: number | null;

  @ApiProperty({ ...MILLISECONDS, description: 'As `p95_duration_ms_last_window`, for this slot' })
  p95_duration_ms!: number | null;

  @ApiProperty(COUNT)
  test_runs_last_window!: number;
}

export class StatsBucketDto {
  @ApiProperty({
    format: 'date-time',
    description: 'Inclusive; the bucket ends where the next starts',
  })
  start!: string;

  @ApiProperty({ ...COUNT, description: 'Booth jobs started in the bucket' })
  jobs!: number;

  @ApiProperty(COUNT)
  completed!: number;

  @ApiProperty(COUNT)
  timeouts!: number;

  @ApiProperty(COUNT)
  provider_errors!: number;
}

export class StatsSeriesDto {
  @ApiProperty({ type: 'integer', example: 120, description: 'window_minutes × 60 / 30' })
  bucket_seconds!: number;

  @ApiProperty({
    type: [StatsBucketDto],
    description:
      'Always 30, oldest first, from the window start; a job started exactly now counts in the last one',
  })
  buckets!: StatsBucketDto[];
}

export class StatsOverviewDto {
  @ApiProperty({ type: 'integer', example: 60 })
  window_minutes!: number;

  @ApiProperty({ type: SystemStatsDto })
  system!: SystemStatsDto;

  @ApiProperty({ type: [SlotStatsDto], description: 'All 15 slots, ordered by id' })
  slots!: SlotStatsDto[];

  @ApiProperty({ type: StatsSeriesDto, description: 'Booth jobs of all slots over the window' })
  series!: StatsSeriesDto;
}

export class SlotStatsDetailDto extends SlotStatsDto {
  @ApiProperty({ type: 'integer', example: 60 })
  window_minutes!: number;

  @ApiProperty({ type: StatsSeriesDto, description: 'This slot’s booth jobs over the window' })
  series!: StatsSeriesDto;
}
