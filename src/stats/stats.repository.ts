import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** Counts of one group of jobs started in the window (the whole window, a slot or a bucket). */
export interface WindowCounts {
  /** Booth (`ingest`) jobs. */
  jobs: number;
  completed: number;
  /** Booth jobs in a final status: the denominator of the rates. */
  finished: number;
  timeouts: number;
  providerErrors: number;
  /** `ui_test` jobs: admins trying slots out, kept apart from the booth's figures. */
  testRuns: number;
  /** `percentile_cont(0.95)` of `duration_ms` over completed booth jobs; null without any. */
  p95DurationMs: number | null;
}

export interface WindowRange {
  from: Date;
  to: Date;
  bucketSeconds: number;
  buckets: number;
}

export interface WindowAggregates {
  total: WindowCounts;
  bySlot: Map<string, WindowCounts>;
  /** Only buckets holding jobs; keyed by index from `range.from`. */
  byBucket: Map<number, WindowCounts>;
}

export interface SlotLastRecord {
  slotId: string;
  displayName: string;
  isActive: boolean;
  /** Booth jobs ever recorded for the slot. */
  jobsTotal: number;
  lastSuccessAt: Date | null;
  lastErrorAt: Date | null;
  lastErrorReason: string | null;
}

export interface SystemTotals {
  jobsTotal: number;
  jobsInFlight: number;
  /** Bytes of result files still on disk plus template images, as recorded in the database. */
  storageBytes: number;
}

/** Sums over no matching row are null. */
interface CountsRow {
  slot_id: string | null;
  bucket: number | null;
  no_slot: number;
  no_bucket: number;
  jobs: number | null;
  completed: number | null;
  finished: number | null;
  timeouts: number | null;
  provider_errors: number | null;
  test_runs: number | null;
}

interface P95Row {
  /** null: the whole window. */
  slot_id: string | null;
  p95: number | null;
}

// Cancelled is an admin's decision, not a failure of the slot.
const FAILED_STATUSES = "('failed_timeout', 'failed_provider', 'failed_internal')";
const ACTIVE_STATUSES = "('pending', 'processing')";

/**
 * Every figure is an aggregate computed by PostgreSQL; job rows never come to JS. The indexes,
 * the `job_count` table and the plans these queries rely on are described in
 * migrations/1763900000000-job-statistics.ts and bench/stats.ts.
 */
@Injectable()
export class StatsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * The window [from, to] for the totals, each slot and each bucket; `slotId` narrows it to one
   * slot. Counts and p95 are separate queries run side by side: the percentile needs every
   * duration sorted, the counts only a few hundred hashed groups.
   */
  async window(range: WindowRange, slotId?: string): Promise<WindowAggregates> {
    const [counts, p95] = await Promise.all([
      this.windowCounts(range, slotId),
      this.windowP95(range, slotId),
    ]);
    const aggregates: WindowAggregates = {
      total: emptyCounts(),
      bySlot: new Map(),
      byBucket: new Map(),
    };
    for (const row of counts) {
      const value = toCounts(row);
      if (row.no_slot === 0 && row.slot_id !== null) aggregates.bySlot.set(row.slot_id, value);
      else if (row.no_bucket === 0 && row.bucket !== null)
        aggregates.byBucket.set(row.bucket, value);
      else aggregates.total = value;
    }
    for (const row of p95) {
      const counts = row.slot_id === null ? aggregates.total : aggregates.bySlot.get(row.slot_id);
      if (counts) counts.p95DurationMs = row.p95;
    }
    return aggregates;
  }

  /**
   * Each bucket is its own index range (exact timestamp bounds, the last one closed at `to`), so
   * its rows fold into at most slot × source × status groups; GROUPING SETS then sums those into
   * totals, slots and buckets, and the series always adds up to the totals. Grouping the window
   * by a computed bucket instead made the planner expect one group per job and sort it all.
   */
  private windowCounts(range: WindowRange, slotId?: string): Promise<CountsRow[]> {
    const params: unknown[] = [range.from, range.to, range.bucketSeconds, range.buckets - 1];
    if (slotId !== undefined) params.push(slotId);
    return this.dataSource.query<CountsRow[]>(
      `SELECT slot_id, bucket, GROUPING(slot_id)::int AS no_slot, GROUPING(bucket)::int AS no_bucket,
              sum(n) FILTER (WHERE source = 'ingest')::int AS jobs,
              sum(n) FILTER (WHERE source = 'ingest' AND status = 'completed')::int AS completed,
              sum(n) FILTER (WHERE source = 'ingest' AND status NOT IN ${ACTIVE_STATUSES})::int AS finished,
              sum(n) FILTER (WHERE source = 'ingest' AND status = 'failed_timeout')::int AS timeouts,
              sum(n) FILTER (WHERE source = 'ingest' AND status = 'failed_provider')::int AS provider_errors,
              sum(n) FILTER (WHERE source = 'ui_test')::int AS test_runs
       FROM generate_series(0, $4::int) AS b (bucket)
       CROSS JOIN LATERAL (
         SELECT slot_id, source, status, count(*) AS n
         FROM job
         WHERE started_at >= $1::timestamptz + b.bucket * $3::int * interval '1 second'
           AND started_at < CASE WHEN b.bucket = $4::int
                                 THEN $2::timestamptz + interval '1 microsecond'
                                 ELSE $1::timestamptz + (b.bucket + 1) * $3::int * interval '1 second' END
           ${slotId === undefined ? '' : 'AND slot_id = $5'}
         GROUP BY slot_id, source, status
       ) g
       GROUP BY GROUPING SETS ((), (slot_id), (bucket))`,
      params,
    );
  }

  /**
   * `percentile_cont(0.95)` of the durations of completed booth jobs: over the window (or the one
   * slot), and per slot through the slot's own index, so no sort of the whole window by slot.
   */
  private windowP95(range: WindowRange, slotId?: string): Promise<P95Row[]> {
    const p95 = 'percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms)';
    const inWindow = `started_at >= $1::timestamptz AND started_at <= $2::timestamptz
                      AND source = 'ingest' AND status = 'completed'`;
    if (slotId !== undefined) {
      return this.dataSource.query<P95Row[]>(
        `SELECT NULL AS slot_id, ${p95} AS p95 FROM job WHERE ${inWindow} AND slot_id = $3`,
        [range.from, range.to, slotId],
      );
    }
    return this.dataSource.query<P95Row[]>(
      `SELECT NULL AS slot_id, ${p95} AS p95 FROM job WHERE ${inWindow}
       UNION ALL
       SELECT s.id, p.p95 FROM slot s
       CROSS JOIN LATERAL (SELECT ${p95} AS p95 FROM job WHERE job.slot_id = s.id AND ${inWindow}) p`,
      [range.from, range.to],
    );
  }

  /** Slots by id with their all-time job count and latest booth success and failure. */
  async slots(slotId?: string): Promise<SlotLastRecord[]> {
    const rows = await this.dataSource.query<
      Array<{
        id: string;
        display_name: string;
        is_active: boolean;
        jobs_total: string | null;
        last_success_at: Date | null;
        last_error_at: Date | null;
        last_error_reason: string | null;
      }>
    >(
      `SELECT s.id, s.display_name, s.is_active, c.jobs AS jobs_total,
              ok.finished_at AS last_success_at,
              err.finished_at AS last_error_at, err.failure_reason AS last_error_reason
       FROM slot s
       LEFT JOIN job_count c ON c.slot_id = s.id AND c.source = 'ingest'
       LEFT JOIN LATERAL (
         SELECT finished_at FROM job
         WHERE job.slot_id = s.id AND source = 'ingest' AND status = 'completed'
         ORDER BY finished_at DESC NULLS LAST
         LIMIT 1
       ) ok ON true
       LEFT JOIN LATERAL (
         SELECT finished_at, failure_reason FROM job
         WHERE job.slot_id = s.id AND source = 'ingest' AND status IN ${FAILED_STATUSES}
         ORDER BY finished_at DESC NULLS LAST
         LIMIT 1
       ) err ON true
       ${slotId === undefined ? '' : 'WHERE s.id = $1'}
       ORDER BY s.id`,
      slotId === undefined ? [] : [slotId],
    );
    return rows.map((row) => ({
      slotId: row.id,
      displayName: row.display_name,
      isActive: row.is_active,
      jobsTotal: Number(row.jobs_total ?? 0),
      lastSuccessAt: row.last_success_at,
      lastErrorAt: row.last_error_at,
      lastErrorReason: row.last_error_reason,
    }));
  }

  /**
   * Figures that do not depend on the window. `jobs_total` reads the trigger-kept `job_count`.
   * Storage comes from the sizes recorded in the database rather than a walk of MEDIA_ROOT:
   * exact for result payloads and templates, the same on every instance, and one index-only
   * scan; previews (≤ 512 px) and provider links (which live seconds) are left out.
   */
  async totals(now: Date): Promise<SystemTotals> {
    const [row] = await this.dataSource.query<
      Array<{ jobs_total: string; jobs_in_flight: number; storage_bytes: string }>
    >(
      `SELECT (SELECT coalesce(sum(jobs), 0) FROM job_count WHERE source = 'ingest') AS jobs_total,
              (SELECT count(*)::int FROM job
                WHERE source = 'ingest' AND status IN ${ACTIVE_STATUSES} AND deadline_at > $1::timestamptz
              ) AS jobs_in_flight,
              (SELECT coalesce(sum(result_size_bytes), 0) FROM job
                WHERE result_path IS NOT NULL AND result_deleted_at IS NULL)
              + (SELECT coalesce(sum(size_bytes), 0) FROM template_media) AS storage_bytes`,
      [now],
    );
    return {
      jobsTotal: Number(row?.jobs_total ?? 0),
      jobsInFlight: row?.jobs_in_flight ?? 0,
      storageBytes: Number(row?.storage_bytes ?? 0),
    };
  }
}

export function emptyCounts(): WindowCounts {
  return {
    jobs: 0,
    completed: 0,
    finished: 0,
    timeouts: 0,
    providerErrors: 0,
    testRuns: 0,
    p95DurationMs: null,
  };
}

function toCounts(row: CountsRow): WindowCounts {
  return {
    jobs: row.jobs ?? 0,
    completed: row.completed ?? 0,
    finished: row.finished ?? 0,
    timeouts: row.timeouts ?? 0,
    providerErrors: row.provider_errors ?? 0,
    testRuns: row.test_runs ?? 0,
    p95DurationMs: null,
  };
}
