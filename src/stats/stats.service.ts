import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { SLOT_ID_PATTERN, slotNotFound } from '../slots/slots.errors';
import {
  SlotStatsDetailDto,
  SlotStatsDto,
  StatsOverviewDto,
  StatsSeriesDto,
  SystemStatsDto,
} from './dto/stats.dto';
import {
  emptyCounts,
  SlotLastRecord,
  StatsRepository,
  SystemTotals,
  WindowCounts,
  WindowRange,
} from './stats.repository';

/** About 30 points make a readable chart at any window; 30 also divides every window exactly. */
export const SERIES_BUCKETS = 30;
const MIB = 1024 * 1024;

/**
 * Statistics of booth (`ingest`) jobs; test-runs are counted apart. The window is the jobs whose
 * `started_at` lies in [now − window_minutes, now] by the injected clock.
 */
@Injectable()
export class StatsService {
  constructor(
    private readonly stats: StatsRepository,
    private readonly clock: Clock,
  ) {}

  async overview(windowMinutes: number): Promise<StatsOverviewDto> {
    const range = windowRange(this.clock.now(), windowMinutes);
    const [window, slots, totals] = await Promise.all([
      this.stats.window(range),
      this.stats.slots(),
      this.stats.totals(range.to),
    ]);
    return {
      window_minutes: windowMinutes,
      system: toSystem(window.total, totals),
      slots: slots.map((slot) => toSlot(slot, window.bySlot.get(slot.slotId) ?? emptyCounts())),
      series: toSeries(range, window.byBucket),
    };
  }

  async system(windowMinutes: number): Promise<SystemStatsDto> {
    const range = windowRange(this.clock.now(), windowMinutes);
    const [window, totals] = await Promise.all([
      this.stats.window(range),
      this.stats.totals(range.to),
    ]);
    return toSystem(window.total, totals);
  }

  async slot(slotId: string, windowMinutes: number): Promise<SlotStatsDetailDto> {
    if (!SLOT_ID_PATTERN.test(slotId)) throw slotNotFound(slotId);
    const range = windowRange(this.clock.now(), windowMinutes);
    const [slots, window] = await Promise.all([
      this.stats.slots(slotId),
      this.stats.window(range, slotId),
    ]);
    const slot = slots[0];
    if (!slot) throw slotNotFound(slotId);
    return {
      window_minutes: windowMinutes,
      ...toSlot(slot, window.total),
      series: toSeries(range, window.byBucket),
    };
  }
}

export function windowRange(now: Date, windowMinutes: number): WindowRange {
  return {
    from: new Date(now.getTime() - windowMinutes * 60_000),
    to: now,
    bucketSeconds: (windowMinutes * 60) / SERIES_BUCKETS,
    buckets: SERIES_BUCKETS,
  };
}

function toSystem(window: WindowCounts, totals: SystemTotals): SystemStatsDto {
  return {
    jobs_total: totals.jobsTotal,
    jobs_last_window: window.jobs,
    timeouts_last_window: window.timeouts,
    provider_errors_last_window: window.providerErrors,
    storage_usage_mb: Math.round((totals.storageBytes / MIB) * 100) / 100,
    success_rate_last_window: rate(window.completed, window.finished),
    timeout_rate_last_window: rate(window.timeouts, window.finished),
    p95_duration_ms_last_window: milliseconds(window.p95DurationMs),
    jobs_in_flight: totals.jobsInFlight,
    test_runs_last_window: window.testRuns,
  };
}

function toSlot(slot: SlotLastRecord, window: WindowCounts): SlotStatsDto {
  return {
    slot_id: slot.slotId,
    display_name: slot.displayName,
    is_active: slot.isActive,
    jobs_total: slot.jobsTotal,
    jobs_last_window: window.jobs,
    timeouts_last_window: window.timeouts,
    provider_errors_last_window: window.providerErrors,
    last_success_at: slot.lastSuccessAt?.toISOString() ?? null,
    last_error_reason: slot.lastErrorReason,
    last_error_at: slot.lastErrorAt?.toISOString() ?? null,
    success_rate: rate(window.completed, window.finished),
    p95_duration_ms: milliseconds(window.p95DurationMs),
    test_runs_last_window: window.testRuns,
  };
}

function toSeries(range: WindowRange, byBucket: Map<number, WindowCounts>): StatsSeriesDto {
  const start = range.from.getTime();
  return {
    bucket_seconds: range.bucketSeconds,
    buckets: Array.from({ length: range.buckets }, (_, index) => {
      const counts = byBucket.get(index) ?? emptyCounts();
      return {
        start: new Date(start + index * range.bucketSeconds * 1000).toISOString(),
        jobs: counts.jobs,
        completed: counts.completed,
        timeouts: counts.timeouts,
        provider_errors: counts.providerErrors,
      };
    }),
  };
}

/** A share of finished jobs, to 4 decimals; null rather than a misleading 0 when none finished. */
function rate(part: number, whole: number): number | null {
  return whole === 0 ? null : Math.round((part / whole) * 10_000) / 10_000;
}

function milliseconds(value: number | null): number | null {
  return value === null ? null : Math.round(value);
}
