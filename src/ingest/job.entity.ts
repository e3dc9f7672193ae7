import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintNumber } from '../database/transformers';

export type JobSource = 'ingest' | 'ui_test';
export type JobStatus =
  | 'pending'
  | 'processing'
  | 'completed'
  | 'failed_timeout'
  | 'failed_provider'
  | 'failed_internal'
  | 'cancelled';

export const ACTIVE_JOB_STATUSES: readonly JobStatus[] = ['pending', 'processing'];

/** The durable record of one ingest or test-run attempt (SPEC §3). */
@Entity({ name: 'job' })
export class JobEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'varchar', length: 16 })
  slotId!: string;

  @Column({ type: 'varchar', length: 16 })
  source!: JobSource;

  @Column({ type: 'varchar', length: 32 })
  status!: JobStatus;

  @Column({ type: 'varchar', length: 32, nullable: true })
  failureReason!: string | null;

  @Column({ type: 'varchar', length: 32, nullable: true })
  provider!: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  operation!: string | null;

  @Column({ type: 'varchar', length: 128, nullable: true })
  model!: string | null;

  @Column({ type: 'timestamptz' })
  startedAt!: Date;

  @Column({ type: 'timestamptz' })
  deadlineAt!: Date;

  @Column({ type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;

  @Column({ type: 'integer', nullable: true })
  durationMs!: number | null;

  @Column({ type: 'integer', nullable: true })
  providerDurationMs!: number | null;

  @Column({ type: 'char', length: 64, nullable: true })
  inputSha256!: string | null;

  @Column({ type: 'bigint', nullable: true, transformer: bigintNumber })
  inputSizeBytes!: number | null;

  @Column({ type: 'varchar', length: 32, nullable: true })
  inputMimeType!: string | null;

  @Column({ type: 'varchar', length: 256, nullable: true })
  clientHash!: string | null;

  @Column({ type: 'boolean', default: false })
  hashVerified!: boolean;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  clientFields!: Record<string, string>;

  @Column({ type: 'varchar', length: 256, nullable: true })
  dedupeKey!: string | null;

  @Column({ type: 'varchar', length: 128, nullable: true })
  providerJobReference!: string | null;

  /** Gemini's `finishReason`/`finishMessage` or a provider's refusal text, kept for the admin. */
  @Column({ type: 'varchar', length: 64, nullable: true })
  providerFinishReason!: string | null;

  @Column({ type: 'text', nullable: true })
  providerMessage!: string | null;

  @Column({ type: 'text', nullable: true })
  resultPath!: string | null;

  @Column({ type: 'varchar', length: 32, nullable: true })
  resultMimeType!: string | null;

  @Column({ type: 'bigint', nullable: true, transformer: bigintNumber })
  resultSizeBytes!: number | null;

  @Column({ type: 'char', length: 64, nullable: true })
  resultChecksum!: string | null;

  @Column({ type: 'integer', nullable: true })
  resultWidth!: number | null;

  @Column({ type: 'integer', nullable: true })
  resultHeight!: number | null;

  @Column({ type: 'timestamptz', nullable: true })
  resultExpiresAt!: Date | null;

  /** Set when the files were removed (expiry, cleanup or a guest's request); the row stays. */
  @Column({ type: 'timestamptz', nullable: true })
  resultDeletedAt!: Date | null;

  @Column({ type: 'jsonb', nullable: true })
  usage!: Record<string, unknown> | null;
}
