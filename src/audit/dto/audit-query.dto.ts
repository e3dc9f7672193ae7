import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';

export class AuditQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;

  @ApiPropertyOptional({ description: 'Entries older than this id (the previous page’s last id)' })
  @IsOptional()
  @Matches(/^\d{1,18}$/, { message: 'before must be an entry id' })
  before?: string;
}

export class AuditEntryDto {
  @ApiProperty()
  id!: string;

  @ApiProperty({ format: 'date-time' })
  created_at!: string;

  @ApiProperty({ example: 'serg' })
  actor!: string;

  @ApiProperty({ example: 'slot' })
  entity_type!: string;

  @ApiProperty({ type: String, nullable: true, example: 'slot-001' })
  entity_id!: string | null;

  @ApiProperty({ example: 'update' })
  action!: string;

  @ApiProperty({ type: 'object', nullable: true, additionalProperties: true })
  old_value!: Record<string, unknown> | null;

  @ApiProperty({ type: 'object', nullable: true, additionalProperties: true })
  new_value!: Record<string, unknown> | null;
}
