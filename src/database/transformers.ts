import type { ValueTransformer } from 'typeorm';

/** `bigint` columns arrive from pg as strings; sizes here always fit a JS number. */
export const bigintNumber: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | null) => (value === null ? null : Number(value)),
};
