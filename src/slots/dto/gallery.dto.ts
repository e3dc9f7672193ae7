import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, Max, Min, ValidateIf } from 'class-validator';

export const GALLERY_HOURS = { min: 1, max: 168, fallback: 24 } as const;

export class ShareGalleryDto {
  @ApiPropertyOptional({
    type: 'integer',
    minimum: GALLERY_HOURS.min,
    maximum: GALLERY_HOURS.max,
    default: GALLERY_HOURS.fallback,
    description: 'How long the link works from now',
  })
  // May be left out, but not sent as null.
  @ValidateIf((_object, value) => value !== undefined)
  @IsInt({ message: `must be a whole number from ${GALLERY_HOURS.min} to ${GALLERY_HOURS.max}` })
  @Min(GALLERY_HOURS.min, {
    message: `must be a whole number from ${GALLERY_HOURS.min} to ${GALLERY_HOURS.max}`,
  })
  @Max(GALLERY_HOURS.max, {
    message: `must be a whole number from ${GALLERY_HOURS.min} to ${GALLERY_HOURS.max}`,
  })
  hours?: number;
}

export class GalleryLinkDto {
  @ApiProperty({
    example: 'https://booth.example.com/public/galleries/9dJ0…',
    description: 'Absolute and unguessable; anyone holding it sees the gallery until it expires',
  })
  url!: string;

  @ApiProperty({ format: 'date-time' })
  expires_at!: string;
}

export class GalleryResultDto {
  @ApiProperty({ format: 'uuid' })
  job_id!: string;

  @ApiProperty({ description: 'The file, as a download' })
  result_url!: string;

  @ApiProperty({ description: 'A WEBP preview, at most 512 px' })
  preview_url!: string;

  @ApiProperty({ format: 'date-time' })
  finished_at!: string;
}

export class PublicGalleryDto {
  @ApiProperty({ example: 'slot-001' })
  slot_id!: string;

  @ApiProperty()
  display_name!: string;

  @ApiProperty({ format: 'date-time', description: 'When the link stops working' })
  expires_at!: string;

  @ApiProperty({
    type: [GalleryResultDto],
    description: 'The slot’s booth results still kept, newest first (at most 100)',
  })
  results!: GalleryResultDto[];
}
