import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ValidateBy } from 'class-validator';

export const DEFAULT_WINDOW_MINUTES = 60;
export const MIN_WINDOW_MINUTES = 5;
export const MAX_WINDOW_MINUTES = 4320;

/** One constraint, so a bad value gets one message rather than one per rule it breaks. */
function IsWindowMinutes(): PropertyDecorator {
  return ValidateBy({
    name: 'isWindowMinutes',
    validator: {
      validate: (value: unknown) =>
        typeof value === 'number' &&
        Number.isInteger(value) &&
        value >= MIN_WINDOW_MINUTES &&
        value <= MAX_WINDOW_MINUTES,
      defaultMessage: () =>
        `window_minutes must be a whole number of minutes from ${MIN_WINDOW_MINUTES} to ${MAX_WINDOW_MINUTES}`,
    },
  });
}

export class StatsWindowQueryDto {
  @ApiPropertyOptional({
    type: 'integer',
    minimum: MIN_WINDOW_MINUTES,
    maximum: MAX_WINDOW_MINUTES,
    default: DEFAULT_WINDOW_MINUTES,
    description: 'The window, in minutes up to now, that the `*_last_window` figures cover',
  })
  // Only plain digits become a number: '1e2', '0x10', ' 60' or '' stay strings and are refused.
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && /^\d{1,9}$/.test(value) ? Number(value) : value,
  )
  @IsWindowMinutes()
  window_minutes: number = DEFAULT_WINDOW_MINUTES;
}
