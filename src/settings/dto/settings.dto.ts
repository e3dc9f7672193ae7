import { ApiProperty } from '@nestjs/swagger';
import { NUMERIC_SETTINGS as N } from '../settings.limits';

export class ProviderConcurrencyDto {
  @ApiProperty({
    type: 'integer',
    minimum: N['provider_concurrency.gemini'].min,
    maximum: N['provider_concurrency.gemini'].max,
    default: N['provider_concurrency.gemini'].fallback,
  })
  gemini!: number;

  @ApiProperty({
    type: 'integer',
    minimum: N['provider_concurrency.turbotext'].min,
    maximum: N['provider_concurrency.turbotext'].max,
    default: N['provider_concurrency.turbotext'].fallback,
  })
  turbotext!: number;
}

export class ProviderKeyStatusDto {
  @ApiProperty({ description: 'A key is stored in the settings or set in the environment' })
  configured!: boolean;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'When the stored key was last set; null when only the environment provides one',
  })
  updated_at!: string | null;
}

export class ProviderKeyStatusesDto {
  @ApiProperty({ type: ProviderKeyStatusDto })
  gemini!: ProviderKeyStatusDto;

  @ApiProperty({ type: ProviderKeyStatusDto })
  turbotext!: ProviderKeyStatusDto;
}

/** The global settings as the admin console shows them; secrets appear only as status. */
export class SettingsDto {
  @ApiProperty({
    type: 'integer',
    minimum: N.sync_response_seconds.min,
    maximum: N.sync_response_seconds.max,
    default: N.sync_response_seconds.fallback,
    description: 'T_sync_response: how long the booth waits for the edited photo',
  })
  sync_response_seconds!: number;

  @ApiProperty({
    type: 'integer',
    minimum: N.result_ttl_hours.min,
    maximum: N.result_ttl_hours.max,
    description: 'How long results are kept; defaults to RESULT_TTL_HOURS (72)',
  })
  result_ttl_hours!: number;

  @ApiProperty({
    type: 'integer',
    minimum: N.max_upload_mb.min,
    maximum: N.max_upload_mb.max,
    default: N.max_upload_mb.fallback,
  })
  max_upload_mb!: number;

  @ApiProperty({
    type: 'integer',
    minimum: N.max_input_megapixels.min,
    maximum: N.max_input_megapixels.max,
    default: N.max_input_megapixels.fallback,
  })
  max_input_megapixels!: number;

  @ApiProperty({
    type: 'integer',
    minimum: N.slot_concurrency.min,
    maximum: N.slot_concurrency.max,
    default: N.slot_concurrency.fallback,
  })
  slot_concurrency!: number;

  @ApiProperty({ type: ProviderConcurrencyDto })
  provider_concurrency!: ProviderConcurrencyDto;

  @ApiProperty({
    type: 'integer',
    minimum: N.provider_max_edge_px.min,
    maximum: N.provider_max_edge_px.max,
    default: N.provider_max_edge_px.fallback,
  })
  provider_max_edge_px!: number;

  @ApiProperty({ type: 'integer', minimum: 1, description: 'Starts at 1, +1 per save' })
  version!: number;

  @ApiProperty()
  ingest_password_set!: boolean;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  ingest_password_rotated_at!: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'The admin who set the password' })
  ingest_password_rotated_by!: string | null;

  @ApiProperty({ type: ProviderKeyStatusesDto })
  provider_keys!: ProviderKeyStatusesDto;
}
