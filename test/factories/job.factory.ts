import { randomUUID } from 'node:crypto';
import type { JobSource, JobStatus } from '../../src/ingest/job.entity';
import { sql } from '../support/database';

export interface JobRow {
  id: string;
  slotId: string;
  source: JobSource;
  status: JobStatus;
  failureReason: string | null;
  provider: string | null;
  operation: string | null;
  startedAt: Date;
  deadlineAt: Date;
  finishedAt: Date | null;
  resultPath: string | null;
  resultMimeType: string | null;
  resultExpiresAt: Date | null;
  resultDeletedAt: Date | null;
  durationMs: number | null;
  resultSizeBytes: number | null;
}

const HOUR = 3_600_000;

/**
 * A `job` row as ingest would leave it. A `completed` job gets a result that expires 72 h after
 * it finished; other final statuses get a failure reason and no result. Nothing is written to disk.
 */
export async function insertJob(
  databaseUrl: string,
  overrides: Partial<JobRow> & { slotId: string },
): Promise<JobRow> {
  const id = overrides.id ?? randomUUID();
  const status = overrides.status ?? 'completed';
  const startedAt = overrides.startedAt ?? new Date();
  const active = status === 'pending' || status === 'processing';
  const completed = status === 'completed';
  const finishedAt =
    overrides.finishedAt !== undefined
      ? overrides.finishedAt
      : active
        ? null
        : new Date(startedAt.getTime() + 5_000);
  const row: JobRow = {
    id,
    source: 'ingest',
    status,
    failureReason: completed || active ? null : 'provider_error',
    provider: 'gemini',
    operation: 'image_edit',
    startedAt,
    deadlineAt: new Date(startedAt.getTime() + 48_000),
    finishedAt,
    resultPath: completed ? `results/${overrides.slotId}/${id}/payload.jpg` : null,
    resultMimeType: completed ? 'image/jpeg' : null,
    resultExpiresAt: completed && finishedAt ? new Date(finishedAt.getTime() + 72 * HOUR) : null,
    resultDeletedAt: null,
    durationMs: null,
    resultSizeBytes: null,
    ...overrides,
  };
  await sql(
    databaseUrl,
    `INSERT INTO job (id, slot_id, source, status, failure_reason, provider, operation, started_at,
                      deadline_at, finished_at, result_path, result_mime_type, result_expires_at,
                      result_deleted_at, duration_ms, result_size_bytes)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
    [
      row.id,
      row.slotId,
      row.source,
      row.status,
      row.failureReason,
      row.provider,
      row.operation,
      row.startedAt,
      row.deadlineAt,
      row.finishedAt,
      row.resultPath,
      row.resultMimeType,
      row.resultExpiresAt,
      row.resultDeletedAt,
      row.durationMs,
      row.resultSizeBytes,
    ],
  );
  return row;
}
