import { ApiProperty } from '@nestjs/swagger';

export class TemplateMediaDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ enum: ['image/jpeg', 'image/png', 'image/webp'] })
  mime_type!: string;

  @ApiProperty()
  size_bytes!: number;

  @ApiProperty()
  width!: number;

  @ApiProperty()
  height!: number;

  @ApiProperty({
    example: '/api/template-media/4b0c…/preview',
    description: 'An admin route: fetch it with the access token',
  })
  preview_url!: string;
}

export class RegisteredMediaDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ description: 'Absolute, unguessable, public while it lives' })
  public_url!: string;

  @ApiProperty({ format: 'date-time' })
  expires_at!: string;
}
