import { ApiProperty } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsInt,
  IsObject,
  IsString,
  IsUUID,
  Length,
  MaxLength,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { PROVIDER_IDS, TEMPLATE_KINDS } from '../../providers/provider-catalog';

// Only the shape is checked here; catalogue and database rules are checked by SlotsService,
// which reports all of them in one answer.

export class TemplateBindingInputDto {
  @ApiProperty({ enum: TEMPLATE_KINDS })
  @IsString()
  @MaxLength(32)
  media_kind!: string;

  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  template_media_id!: string;
}

export class UpdateSlotDto {
  @ApiProperty({ minLength: 1, maxLength: 100, description: 'Trimmed before it is checked' })
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @IsString()
  @Length(1, 100)
  display_name!: string;

  @ApiProperty({
    enum: PROVIDER_IDS,
    nullable: true,
    type: String,
    description: 'null: not configured',
  })
  @ValidateIf((dto: UpdateSlotDto) => dto.provider !== null)
  @IsString({ message: 'provider must be a provider id or null' })
  @MaxLength(32)
  provider!: string | null;

  @ApiProperty({ nullable: true, type: String, example: 'image_edit' })
  @ValidateIf((dto: UpdateSlotDto) => dto.operation !== null)
  @IsString({ message: 'operation must be an operation id or null' })
  @MaxLength(64)
  operation!: string | null;

  @ApiProperty()
  @IsBoolean()
  is_active!: boolean;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: "Checked against the operation's `settings_schema` (GET /api/providers)",
  })
  @IsObject()
  settings!: Record<string, unknown>;

  @ApiProperty({ type: [TemplateBindingInputDto] })
  @IsArray()
  @ArrayMaxSize(20)
  @ValidateNested({ each: true })
  @Type(() => TemplateBindingInputDto)
  template_media!: TemplateBindingInputDto[];

  @ApiProperty({ minimum: 1, description: 'The version read; a stale one answers 409' })
  @IsInt()
  @Min(1)
  version!: number;
}
