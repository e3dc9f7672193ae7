import { Injectable } from '@nestjs/common';
import * as path from 'node:path';
import { AuditRepository } from '../audit/audit.repository';
import { Clock } from '../common/clock';
import { DomainError } from '../common/domain-error';
import { openForSending, OpenFile } from '../media/file-sender';
import { ResultStore } from '../media/result-store';
import { JobStatusDto } from './dto/job-status.dto';
import type { JobEntity } from './job.entity';
import { isDownloadable, JobsRepository } from './jobs.repository';
import { JobRunner } from './job-runner';
import { RecentResults } from './recent-results';
import { RunningJobs } from './running-jobs';

// Ids are UUID v4 (122 random bits); anything else cannot be a job, so no query is made.
const JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

export interface OpenResult extends OpenFile {
  mimeType: string;
  downloadName: string;
}

@Injectable()
export class JobsService {
  private readonly recent = new RecentResults();

  constructor(
    private readonly jobs: JobsRepository,
    private readonly running: RunningJobs,
    private readonly runner: JobRunner,
    private readonly store: ResultStore,
    private readonly audit: AuditRepository,
    private readonly clock: Clock,
  ) {}

  async status(id: string): Promise<JobStatusDto> {
    return this.toDto(await this.find(id));
  }

  /** Aborts a running job wherever it runs; 409 once it is final. */
  async cancel(id: string): Promise<JobStatusDto> {
    const job = await this.find(id);
    if (!(await this.jobs.cancel(job.id, this.clock.now()))) {
      throw new DomainError('job_final', `Job ${job.id} has already finished (${job.status})`, {
        jobId: job.id,
      });
    }
    this.running.cancel(job.id);
    return this.toDto((await this.jobs.findById(job.id)) ?? job);
  }

  /** A guest asked for their photo to go: the files now, the link answers 410 from here on. */
  async deleteResult(id: string, admin: string): Promise<void> {
    const job = await this.find(id);
    if (job.status !== 'completed' || !job.resultPath) {
      throw new DomainError('result_not_found', 'This job has no result', { jobId: job.id });
    }
    this.recent.forget(job.id);
    await this.store.remove(job.slotId, job.id);
    const now = this.clock.now();
    await this.jobs.markResultDeleted(job.id, now);
    await this.audit.record(
      { actor: admin, entityType: 'job', entityId: job.id, action: 'delete_result' },
      now,
    );
  }

  /**
   * The result (or its preview) while it is kept, opened for reading: 404 unknown, 410 expired
   * or deleted — also when its file is gone from disk, so a missing file is never a 500.
   */
  async openResult(id: string, variant: 'payload' | 'preview'): Promise<OpenResult> {
    const now = this.clock.now();
    const job = JOB_ID.test(id)
      ? (this.recent.get(id, now.getTime()) ?? (await this.jobs.findResult(id)))
      : null;
    if (!job || job.status !== 'completed' || !job.resultPath || !job.resultMimeType) {
      throw new DomainError('result_not_found', 'There is no result with this id');
    }
    const expired = () => {
      this.recent.forget(job.id);
      return new DomainError('result_expired', 'This result is no longer kept', { jobId: job.id });
    };
    if (!isDownloadable(job, now)) throw expired();
    this.recent.remember(job, now.getTime());
    const payload = this.store.resolve(job.resultPath);
    const file =
      variant === 'preview'
        ? {
            absolutePath: path.join(path.dirname(payload), 'preview.webp'),
            mimeType: 'image/webp',
            downloadName: `photochanger-${job.id}-preview.webp`,
          }
        : {
            absolutePath: payload,
            mimeType: job.resultMimeType,
            downloadName: `photochanger-${job.id}${path.extname(payload)}`,
          };
    // Opened before answering: a file removed meanwhile cannot be half read.
    const opened = await openForSending(file.absolutePath);
    if (!opened) throw expired();
    return { ...opened, mimeType: file.mimeType, downloadName: file.downloadName };
  }

  private async find(id: string): Promise<JobEntity> {
    const job = JOB_ID.test(id) ? await this.jobs.findById(id) : null;
    if (!job) throw new DomainError('job_not_found', 'There is no job with this id');
    return job;
  }

  private toDto(job: JobEntity): JobStatusDto {
    return {
      job_id: job.id,
      slot_id: job.slotId,
      status: job.status,
      failure_reason: job.failureReason,
      started_at: job.startedAt.toISOString(),
      finished_at: job.finishedAt?.toISOString() ?? null,
      duration_ms: job.durationMs,
      result_url: isDownloadable(job, this.clock.now()) ? this.runner.resultUrl(job.id) : null,
      result_expires_at: job.resultExpiresAt?.toISOString() ?? null,
    };
  }
}
