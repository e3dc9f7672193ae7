import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, In, IsNull } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { ACTIVE_JOB_STATUSES, JobEntity, JobSource, JobStatus } from './job.entity';

export interface NewJob {
  id: string;
  slotId: string;
  source: JobSource;
  provider: string;
  operation: string;
  model: string | null;
  startedAt: Date;
  deadlineAt: Date;
  inputSha256: string;
  inputSizeBytes: number;
  inputMimeType: string;
  clientHash: string | null;
  hashVerified: boolean;
  clientFields: Record<string, string>;
  dedupeKey: string | null;
}

export type Admission =
  | { kind: 'admitted'; job: JobEntity }
  | { kind: 'busy'; retryAfterSeconds: number }
  /** An exact retry of a job that is still running (here or on another instance). */
  | { kind: 'in_flight'; job: JobEntity }
  /** An exact retry of a job whose result is still downloadable. */
  | { kind: 'completed'; job: JobEntity };

export interface CompletedResult {
  finishedAt: Date;
  durationMs: number;
  providerDurationMs: number | null;
  model: string | null;
  resultPath: string;
  resultMimeType: string;
  resultSizeBytes: number;
  resultChecksum: string;
  resultWidth: number;
  resultHeight: number;
  resultExpiresAt: Date;
  usage: Record<string, unknown> | null;
}

export interface FailedResult {
  status: Exclude<JobStatus, 'pending' | 'processing' | 'completed'>;
  failureReason: string;
  finishedAt: Date;
  durationMs: number;
  providerDurationMs?: number | null;
  model?: string | null;
  providerFinishReason?: string | null;
  providerMessage?: string | null;
  usage?: Record<string, unknown> | null;
}

/** What TypeORM's PostgreSQL driver answers a raw UPDATE with: `[rows, rowCount]`. */
type UpdateOutcome = [unknown[], number];

/** Jobs still running this long after their deadline belong to a process that died. */
export const INTERRUPTED_AFTER_MS = 60_000;

@Injectable()
export class JobsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Dedupe and the per-slot limit, decided in one transaction holding the slot row lock, so they
   * hold across instances; the limit counts only jobs whose deadline has not passed, so a
   * crashed instance's jobs stop counting by themselves.
   */
  async admit(job: NewJob, slotConcurrency: number, now: Date): Promise<Admission> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query('SELECT id FROM slot WHERE id = $1 FOR UPDATE', [job.slotId]);

      if (job.dedupeKey) {
        const previous = await manager.findOne(JobEntity, {
          where: { slotId: job.slotId, dedupeKey: job.dedupeKey, source: 'ingest' },
          order: { startedAt: 'DESC' },
        });
        if (previous && isActive(previous, now)) return { kind: 'in_flight', job: previous };
        if (previous && isDownloadable(previous, now)) return { kind: 'completed', job: previous };
      }

      const active = await this.active(manager, job.slotId, now);
      if (active.count >= slotConcurrency) {
        const retryAfterMs = active.earliestDeadline
          ? active.earliestDeadline.getTime() - now.getTime()
          : 1000;
        return { kind: 'busy', retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)) };
      }

      const entity = manager.create(JobEntity, { ...job, status: 'pending' });
      await manager.insert(JobEntity, entity as QueryDeepPartialEntity<JobEntity>);
      return { kind: 'admitted', job: entity };
    });
  }

  findById(id: string): Promise<JobEntity | null> {
    return this.dataSource.manager.findOneBy(JobEntity, { id });
  }

  /**
   * The few columns a public download needs. Every guest download runs this, so it is one plain
   * primary-key read, without hydrating the whole row (JSON fields included) into an entity.
   */
  async findResult(id: string): Promise<JobResult | null> {
    const rows: Array<{
      id: string;
      status: JobStatus;
      result_path: string | null;
      result_mime_type: string | null;
      result_expires_at: Date | null;
      result_deleted_at: Date | null;
    }> = await this.dataSource.query(
      `SELECT id, status, result_path, result_mime_type, result_expires_at, result_deleted_at
         FROM job WHERE id = $1`,
      [id],
    );
    const row = rows[0];
    return row
      ? {
          id: row.id,
          status: row.status,
          resultPath: row.result_path,
          resultMimeType: row.result_mime_type,
          resultExpiresAt: row.result_expires_at,
          resultDeletedAt: row.result_deleted_at,
        }
      : null;
  }

  async markProcessing(id: string): Promise<boolean> {
    const result = await this.dataSource.manager.update(
      JobEntity,
      { id, status: 'pending' },
      { status: 'processing' },
    );
    return result.affected === 1;
  }

  async setProviderReference(id: string, reference: string): Promise<void> {
    await this.dataSource.manager.update(JobEntity, { id }, { providerJobReference: reference });
  }

  /** Only a job still running can complete: a cancel or a timeout that came first wins. */
  async complete(id: string, result: CompletedResult): Promise<boolean> {
    const outcome = await this.dataSource.manager.update(JobEntity, { id, status: 'processing' }, {
      status: 'completed',
      failureReason: null,
      ...result,
    } as QueryDeepPartialEntity<JobEntity>);
    return outcome.affected === 1;
  }

  async fail(id: string, result: FailedResult): Promise<boolean> {
    const outcome = await this.dataSource.manager.update(
      JobEntity,
      { id, status: In([...ACTIVE_JOB_STATUSES]) },
      result as QueryDeepPartialEntity<JobEntity>,
    );
    return outcome.affected === 1;
  }

  async markResultDeleted(id: string, now: Date): Promise<void> {
    await this.dataSource.manager.update(
      JobEntity,
      { id, resultDeletedAt: IsNull() },
      { resultDeletedAt: now },
    );
  }

  /** Cancels a running job; false when it is already final (or unknown). */
  async cancel(id: string, now: Date): Promise<boolean> {
    const [, updated] = await this.dataSource.query<UpdateOutcome>(
      `UPDATE job
         SET status = 'cancelled', failure_reason = 'cancelled', finished_at = $2,
             duration_ms = GREATEST(0, (EXTRACT(EPOCH FROM ($2::timestamptz - started_at)) * 1000)::int)
       WHERE id = $1 AND status IN ('pending', 'processing')`,
      [id, now],
    );
    return updated === 1;
  }

  /** Ids among `ids` that an admin has cancelled (on any instance). */
  async cancelledAmong(ids: string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = await this.dataSource.manager.find(JobEntity, {
      select: { id: true },
      where: { id: In(ids), status: 'cancelled' },
    });
    return rows.map((row) => row.id);
  }

  /**
   * Finalises jobs whose process died: those past their deadline + 60 s, or with `everyActive`
   * all of them (this process owns the database alone, so no one else runs them); never one in
   * `except` (running here). Returns what it finalised.
   */
  async finaliseInterrupted(
    now: Date,
    options: { everyActive?: boolean; except?: string[] } = {},
  ): Promise<Array<{ id: string; slotId: string }>> {
    const cutoff = options.everyActive ? null : new Date(now.getTime() - INTERRUPTED_AFTER_MS);
    const [rows] = await this.dataSource.query<[Array<{ id: string; slot_id: string }>, number]>(
      `UPDATE job
         SET status = 'failed_internal', failure_reason = 'interrupted', finished_at = $1,
             duration_ms = GREATEST(0, (EXTRACT(EPOCH FROM ($1::timestamptz - started_at)) * 1000)::int)
       WHERE status IN ('pending', 'processing')
         AND ($2::timestamptz IS NULL OR deadline_at < $2)
         AND NOT (id = ANY($3::uuid[]))
       RETURNING id, slot_id`,
      [now, cutoff, options.except ?? []],
    );
    return rows.map((row) => ({ id: row.id, slotId: row.slot_id }));
  }

  private async active(
    manager: EntityManager,
    slotId: string,
    now: Date,
  ): Promise<{ count: number; earliestDeadline: Date | null }> {
    const [row] = await manager.query<Array<{ count: number; earliest: Date | null }>>(
      `SELECT count(*)::int AS count, min(deadline_at) AS earliest
         FROM job
        WHERE slot_id = $1 AND status IN ('pending', 'processing') AND deadline_at > $2`,
      [slotId, now],
    );
    return { count: row?.count ?? 0, earliestDeadline: row?.earliest ?? null };
  }
}

export function isActive(job: JobEntity, now: Date): boolean {
  return ACTIVE_JOB_STATUSES.includes(job.status) && job.deadlineAt.getTime() > now.getTime();
}

export type JobResult = Pick<
  JobEntity,
  'id' | 'status' | 'resultPath' | 'resultMimeType' | 'resultExpiresAt' | 'resultDeletedAt'
>;

export function isDownloadable(job: JobResult, now: Date): boolean {
  return (
    job.status === 'completed' &&
    job.resultPath !== null &&
    job.resultDeletedAt === null &&
    job.resultExpiresAt !== null &&
    job.resultExpiresAt.getTime() > now.getTime()
  );
}
