import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { NO_NUL } from '../../common/validation';
import { NUMERIC_SETTINGS, NumericSetting } from '../settings.limits';

/** May be left out, but an explicit null is refused: none of these settings can be unset. */
const Omittable = (): PropertyDecorator => ValidateIf((_object, value) => value !== undefined);

function RangeField(name: NumericSetting, description?: string): PropertyDecorator {
  const { min, max } = NUMERIC_SETTINGS[name];
  const message = `must be a whole number from ${min} to ${max}`;
  return applyDecorators(
    ApiPropertyOptional({ type: 'integer', minimum: min, maximum: max, description }),
    Omittable(),
    IsInt({ message }),
    Min(min, { message }),
    Max(max, { message }),
  );
}

/** Keys are pasted by hand: surrounding blanks are dropped, anything else must be a header-safe token. */
function ProviderKeyField(provider: string): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      type: String,
      nullable: true,
      writeOnly: true,
      minLength: 1,
      maxLength: 512,
      description: `The ${provider} API key; null deletes the stored one (the environment key then applies)`,
    }),
    Transform(({ value }: { value: unknown }) =>
      typeof value === 'string' ? value.trim() : value,
    ),
    IsOptional(),
    IsString(),
    MinLength(1),
    MaxLength(512),
    Matches(/^[\x21-\x7e]+$/, { message: 'must be printable ASCII without spaces' }),
  );
}

export class ProviderConcurrencyUpdateDto {
  @RangeField('provider_concurrency.gemini')
  gemini?: number;

  @RangeField('provider_concurrency.turbotext')
  turbotext?: number;
}

export class ProviderKeysUpdateDto {
  @ProviderKeyField('Gemini')
  gemini?: string | null;

  @ProviderKeyField('Turbotext')
  turbotext?: string | null;
}

/** A partial update: only the fields sent change. */
export class UpdateSettingsDto {
  @RangeField('sync_response_seconds', 'T_sync_response in seconds')
  sync_response_seconds?: number;

  @RangeField('result_ttl_hours')
  result_ttl_hours?: number;

  @RangeField('max_upload_mb')
  max_upload_mb?: number;

  @RangeField('max_input_megapixels')
  max_input_megapixels?: number;

  @RangeField('slot_concurrency')
  slot_concurrency?: number;

  @ApiPropertyOptional({ type: ProviderConcurrencyUpdateDto })
  @Omittable()
  @IsObject()
  @ValidateNested()
  @Type(() => ProviderConcurrencyUpdateDto)
  provider_concurrency?: ProviderConcurrencyUpdateDto;

  @RangeField('provider_max_edge_px')
  provider_max_edge_px?: number;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    description: 'The version last read; when given and stale the update is refused with 409',
  })
  @Omittable()
  @IsInt()
  @Min(1)
  version?: number;

  @ApiPropertyOptional({
    minLength: 8,
    maxLength: 256,
    writeOnly: true,
    description: 'The new ingest password; stored only as a salted hash',
  })
  @Omittable()
  @IsString()
  @MinLength(8)
  @MaxLength(256)
  @Matches(NO_NUL, { message: '$property must not contain NUL characters' })
  ingest_password?: string;

  @ApiPropertyOptional({ type: ProviderKeysUpdateDto, writeOnly: true })
  @Omittable()
  @IsObject()
  @ValidateNested()
  @Type(() => ProviderKeysUpdateDto)
  provider_keys?: ProviderKeysUpdateDto;
}
