import { ApiProperty } from '@nestjs/swagger';

export class RemovedFilesDto {
  @ApiProperty()
  files!: number;

  @ApiProperty()
  bytes!: number;
}

export class CleanupReportDto {
  @ApiProperty({ description: 'False when another instance was cleaning at that moment' })
  ran!: boolean;

  @ApiProperty({ type: RemovedFilesDto })
  expired_results!: RemovedFilesDto;

  @ApiProperty({ type: RemovedFilesDto })
  expired_media!: RemovedFilesDto;

  @ApiProperty({ type: RemovedFilesDto })
  orphans!: RemovedFilesDto;

  @ApiProperty({ type: RemovedFilesDto })
  temp_files!: RemovedFilesDto;

  @ApiProperty()
  interrupted_jobs!: number;

  @ApiProperty()
  duration_ms!: number;
}

export class ScheduledDto {
  @ApiProperty({ example: 'scheduled' })
  status!: 'scheduled';
}
