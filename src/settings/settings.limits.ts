import type { ProviderId } from '../providers/provider-catalog';

export interface SettingRange {
  min: number;
  max: number;
  fallback: number;
}

/**
 * The numeric settings by their dotted API path (SPEC §6). One table feeds the DTO bounds, the
 * defaults and the audit diff, so a range cannot drift between them.
 */
export const NUMERIC_SETTINGS = {
  sync_response_seconds: { min: 10, max: 60, fallback: 48 },
  // The fallback yields to RESULT_TTL_HOURS (config.resultTtlHours) in SettingsService.
  result_ttl_hours: { min: 1, max: 168, fallback: 72 },
  max_upload_mb: { min: 1, max: 50, fallback: 15 },
  max_input_megapixels: { min: 1, max: 100, fallback: 50 },
  slot_concurrency: { min: 1, max: 50, fallback: 4 },
  'provider_concurrency.gemini': { min: 1, max: 200, fallback: 16 },
  'provider_concurrency.turbotext': { min: 1, max: 200, fallback: 8 },
  provider_max_edge_px: { min: 512, max: 4096, fallback: 2048 },
} as const satisfies Record<string, SettingRange> &
  Record<`provider_concurrency.${ProviderId}`, SettingRange>;

export type NumericSetting = keyof typeof NUMERIC_SETTINGS;
export type NumericValues = Record<NumericSetting, number>;

export const NUMERIC_SETTING_NAMES = Object.keys(NUMERIC_SETTINGS) as NumericSetting[];

export function isInRange(name: NumericSetting, value: unknown): value is number {
  const range: SettingRange = NUMERIC_SETTINGS[name];
  return (
    Number.isInteger(value) && (value as number) >= range.min && (value as number) <= range.max
  );
}
