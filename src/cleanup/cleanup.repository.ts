import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

export interface ExpiredResult {
  id: string;
  slotId: string;
}

// Any constant works; every instance uses the same one.
const CLEANUP_LOCK = 7_316_002;

@Injectable()
export class CleanupRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Results whose time is up but whose files are still on disk. */
  async expiredResults(
    now: Date,
    slotId: string | undefined,
    limit: number,
  ): Promise<ExpiredResult[]> {
    const rows = await this.dataSource.query<Array<{ id: string; slot_id: string }>>(
      `SELECT id, slot_id FROM job
        WHERE result_path IS NOT NULL AND result_deleted_at IS NULL AND result_expires_at <= $1
          AND ($2::varchar IS NULL OR slot_id = $2)
        ORDER BY result_expires_at
        LIMIT $3`,
      [now, slotId ?? null, limit],
    );
    return rows.map((row) => ({ id: row.id, slotId: row.slot_id }));
  }

  async markResultsDeleted(ids: string[], now: Date): Promise<void> {
    if (ids.length === 0) return;
    await this.dataSource.query(
      'UPDATE job SET result_deleted_at = $2 WHERE id = ANY($1::uuid[]) AND result_deleted_at IS NULL',
      [ids, now],
    );
  }

  /**
   * Of the result folders found on disk, the job ids that must stay: a result still kept, or a
   * job still running (it writes its folder before the row points at it).
   */
  async keptJobIds(ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.dataSource.query<Array<{ id: string }>>(
      `SELECT id FROM job
        WHERE id = ANY($1::uuid[])
          AND (status IN ('pending', 'processing')
               OR (result_path IS NOT NULL AND result_deleted_at IS NULL))`,
      [ids],
    );
    return new Set(rows.map((row) => row.id));
  }

  /** What the kept results and the templates take on disk, from the sizes recorded at write time. */
  async storedBytes(): Promise<{ results: number; templates: number }> {
    const [row] = await this.dataSource.query<Array<{ results: string; templates: string }>>(
      `SELECT
         (SELECT coalesce(sum(result_size_bytes), 0) FROM job
           WHERE result_path IS NOT NULL AND result_deleted_at IS NULL) AS results,
         (SELECT coalesce(sum(size_bytes), 0) FROM template_media) AS templates`,
    );
    return { results: Number(row?.results ?? 0), templates: Number(row?.templates ?? 0) };
  }

  /** Runs `work` only if no other instance is cleaning right now; false when it was skipped. */
  async exclusively(work: () => Promise<void>): Promise<boolean> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      const [row] = (await runner.query('SELECT pg_try_advisory_lock($1) AS locked', [
        CLEANUP_LOCK,
      ])) as Array<{ locked: boolean }>;
      if (!row?.locked) return false;
      try {
        await work();
      } finally {
        await runner.query('SELECT pg_advisory_unlock($1)', [CLEANUP_LOCK]);
      }
      return true;
    } finally {
      await runner.release();
    }
  }
}
