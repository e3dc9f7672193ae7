import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { AppLogger } from '../common/app-logger';
import { Clock } from '../common/clock';
import { DomainError, ErrorCode } from '../common/domain-error';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.tokens';
import { databaseUnavailable, isDatabaseUnavailable } from '../database/database-errors';
import { ImageProcessor, ResultNotImageError } from '../media/image-processor';
import { MediaObjectsService } from '../media/media-objects.service';
import { MetricsService } from '../metrics/metrics.service';
import { ResultStore } from '../media/result-store';
import {
  ImageMime,
  ProviderDriver,
  ProviderError,
  ProviderImage,
  ProviderResult,
  TemplateImage,
} from '../providers/provider-driver';
import type { RuntimeSettings } from '../settings/settings.service';
import type { SlotRecord } from '../slots/slots.repository';
import { Deadline, JobAborted } from './deadline';
import type { JobEntity, JobStatus } from './job.entity';
import { FailedResult, INTERRUPTED_AFTER_MS, JobsRepository } from './jobs.repository';
import { ProviderLimiter } from './provider-limiter';
import { RunningJobs } from './running-jobs';

/** A retry or the fallback model is tried only while this much time remains (SPEC §4). */
export const MIN_TIME_FOR_RETRY_MS = 15_000;

/** Pauses between writes of a job row while PostgreSQL is unreachable (a restart takes ~1 s). */
const DATABASE_RETRY_MS = [100, 250, 500, 1000];

export interface RunRequest {
  job: JobEntity;
  slot: SlotRecord;
  settings: RuntimeSettings;
  photo: ProviderImage;
  templates: TemplateImage[];
  inputMimeType: ImageMime;
  driver: ProviderDriver;
  apiKey: string;
  deadline: Deadline;
}

export interface JobAnswer {
  jobId: string;
  bytes: Buffer;
  mimeType: ImageMime;
  resultUrl: string;
  deduplicated: boolean;
}

interface ProviderOutcome {
  result: ProviderResult;
  model: string | null;
  providerDurationMs: number;
}

/**
 * Runs one admitted job to its end: provider attempts under the deadline, the answer in the
 * booth's format, the files, the final status. Whatever happens, the job row ends final.
 */
@Injectable()
export class JobRunner {
  constructor(
    private readonly jobs: JobsRepository,
    private readonly running: RunningJobs,
    private readonly limiter: ProviderLimiter,
    private readonly images: ImageProcessor,
    private readonly store: ResultStore,
    private readonly mediaObjects: MediaObjectsService,
    private readonly clock: Clock,
    private readonly logger: AppLogger,
    @InjectConfig() private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {}

  async run(request: RunRequest): Promise<JobAnswer> {
    const { job, deadline } = request;
    this.running.add(job.id, deadline);
    const inFlight = this.metrics.jobStarted();
    let providerDurationMs: number | null = null;
    let model: string | null = job.model;
    let providerStartedAt: number | undefined;
    try {
      await this.persist(
        () => this.jobs.markProcessing(job.id),
        () => !deadline.signal.aborted,
      );
      // The work goes on in the background if the deadline fires first; its final update is
      // conditional on the job still running, so a late answer can never overwrite the timeout.
      providerStartedAt = Date.now();
      const work = this.produce(request, (outcome) => {
        providerDurationMs = outcome.providerDurationMs;
        model = outcome.model;
      });
      work.catch(() => undefined);
      return await deadline.race(work);
    } catch (error) {
      // A failed or timed-out call spent time with the provider too: the log and the row show it.
      providerDurationMs ??=
        providerStartedAt === undefined ? null : Date.now() - providerStartedAt;
      const outcome = await this.fail(request, error, { providerDurationMs, model });
      if (outcome instanceof DomainError) throw outcome;
      return outcome;
    } finally {
      inFlight();
      this.running.remove(job.id);
      deadline.dispose();
      // The job is over: its temporary provider links end now, not at their expiry.
      await this.mediaObjects.releaseJob(job.id).catch((error: unknown) => {
        if (isDatabaseUnavailable(error)) {
          this.later(job.id, 'release_links', () => this.mediaObjects.releaseJob(job.id));
        }
      });
    }
  }

  /** A temporary public link to the photo or a template, for providers that fetch by URL. */
  private async publishForJob(request: RunRequest, image: ProviderImage): Promise<string> {
    const published = await this.mediaObjects.publish(
      image,
      {
        kind: 'id' in image ? 'template_link' : 'ingest',
        jobId: request.job.id,
        slotId: request.slot.id,
      },
      new Date(request.deadline.deadlineAt),
    );
    return published.publicUrl;
  }

  /** The stored answer of a completed job, for exact retries. */
  async storedAnswer(job: JobEntity, deduplicated = true): Promise<JobAnswer> {
    if (!job.resultPath || !job.resultMimeType) {
      throw new DomainError('internal', 'The stored result is missing', { jobId: job.id });
    }
    return {
      jobId: job.id,
      bytes: await readFile(this.store.resolve(job.resultPath)),
      mimeType: job.resultMimeType as ImageMime,
      resultUrl: this.resultUrl(job.id),
      deduplicated,
    };
  }

  resultUrl(jobId: string): string {
    return `${this.config.publicBaseUrl}/public/results/${jobId}`;
  }

  private async produce(
    request: RunRequest,
    onProviderDone: (outcome: ProviderOutcome) => void,
  ): Promise<JobAnswer> {
    const { job, slot, settings, deadline } = request;
    const outcome = await this.callProvider(request);
    onProviderDone(outcome);

    const rendered = await this.images.renderResult(outcome.result.bytes, {
      format: outputMime(slot.settings.output_format, request.inputMimeType),
      longEdgePx: numberSetting(slot.settings.output_long_edge_px),
      maxPixels: settings.maxInputMegapixels * 1_000_000,
    });
    deadline.signal.throwIfAborted();
    const preview = rendered.preview ?? (await this.images.preview(rendered.bytes));
    const stored = await this.store.save(slot.id, job.id, rendered, preview);

    const finishedAt = this.clock.now();
    let completed: boolean;
    try {
      let attempts = 0;
      completed = await this.persist(
        () => {
          attempts += 1;
          return this.jobs.complete(job.id, {
            finishedAt,
            durationMs: finishedAt.getTime() - job.startedAt.getTime(),
            providerDurationMs: outcome.providerDurationMs,
            model: outcome.model,
            resultPath: stored.path,
            resultMimeType: rendered.mimeType,
            resultSizeBytes: stored.sizeBytes,
            resultChecksum: stored.sha256,
            resultWidth: rendered.width,
            resultHeight: rendered.height,
            resultExpiresAt: new Date(finishedAt.getTime() + settings.resultTtlHours * 3_600_000),
            usage: outcome.result.usage ?? null,
          });
        },
        () => !deadline.signal.aborted,
      );
      // A write whose connection died after its commit: the retry finds the row already done.
      if (!completed && attempts > 1) {
        const current = await this.jobs.findById(job.id);
        completed = current?.status === 'completed' && current.resultPath === stored.path;
      }
    } catch (error) {
      // No row points at these files, and none will: they must not stay behind.
      await this.store.remove(slot.id, job.id).catch(() => undefined);
      throw error;
    }
    if (!completed) {
      // Cancelled or timed out while the files were written: they must not outlive the job.
      await this.store.remove(slot.id, job.id);
      throw deadline.signal.aborted
        ? (deadline.signal.reason as Error)
        : new JobAborted('cancelled');
    }
    this.logger.event('info', 'ingest.completed', {
      job_id: job.id,
      slot_id: slot.id,
      source: job.source,
      status: 'completed',
      duration_ms: finishedAt.getTime() - job.startedAt.getTime(),
      provider_duration_ms: outcome.providerDurationMs,
      model: outcome.model,
      result_bytes: stored.sizeBytes,
    });
    return {
      jobId: job.id,
      bytes: rendered.bytes,
      mimeType: rendered.mimeType,
      resultUrl: this.resultUrl(job.id),
      deduplicated: false,
    };
  }

  /** The primary call, one retry, then the fallback model — each only with 15 s left. */
  private async callProvider(request: RunRequest): Promise<ProviderOutcome> {
    const { job, slot, settings, driver, deadline } = request;
    const provider = driver.provider;
    const attempts = driver.attempts(slot.settings);
    let spentMs = 0;
    for (const [index, attempt] of attempts.entries()) {
      const started = Date.now();
      try {
        const result = await this.limiter.run(
          provider,
          settings.providerConcurrency[provider],
          deadline.signal,
          () => {
            const call = driver.process(
              {
                jobId: job.id,
                slotId: slot.id,
                operation: slot.operation ?? '',
                settings: slot.settings,
                photo: request.photo,
                templates: request.templates,
                apiKey: request.apiKey,
                model: attempt.model,
                deadlineAt: new Date(deadline.deadlineAt),
                publicMediaUrl: (image) => this.publishForJob(request, image),
                onProviderReference: (reference) =>
                  void this.jobs.setProviderReference(job.id, reference).catch(() => undefined),
              },
              deadline.signal,
            );
            return this.metrics.observeProviderCall(provider, deadline.signal, call);
          },
        );
        spentMs += Date.now() - started;
        return { result, model: attempt.model ?? null, providerDurationMs: spentMs };
      } catch (error) {
        spentMs += Date.now() - started;
        const another =
          index + 1 < attempts.length && deadline.remainingMs() >= MIN_TIME_FOR_RETRY_MS;
        if (
          !(error instanceof ProviderError) ||
          !error.retryable ||
          deadline.signal.aborted ||
          !another
        ) {
          throw error;
        }
        this.logger.event('warn', 'provider.retry', {
          job_id: job.id,
          slot_id: slot.id,
          provider,
          attempt: index + 1,
          model: attempt.model,
          failure_reason: error.reason,
          http_status: error.details.httpStatus,
        });
      }
    }
    throw new ProviderError('provider_error', 'The provider has no attempt plan');
  }

  /** Finalises the job for `error` and returns what the booth is answered. */
  private async fail(
    request: RunRequest,
    error: unknown,
    measured: { providerDurationMs: number | null; model: string | null },
  ): Promise<DomainError | JobAnswer> {
    const { job, slot } = request;
    const outcome = classify(error);
    const finishedAt = this.clock.now();
    const failed: FailedResult = {
      status: outcome.status,
      failureReason: outcome.reason,
      finishedAt,
      durationMs: finishedAt.getTime() - job.startedAt.getTime(),
      providerDurationMs: measured.providerDurationMs,
      model: measured.model,
      providerFinishReason:
        error instanceof ProviderError ? (error.details.finishReason ?? null) : null,
      providerMessage:
        error instanceof ProviderError ? (error.details.providerMessage ?? null) : null,
    };
    const recorded =
      outcome.status === 'cancelled' ? true : await this.recordFailure(job.id, failed);
    if (!recorded) {
      // Someone finished the job first (the result landed a moment before the deadline).
      const current = await this.jobs.findById(job.id);
      if (current?.status === 'completed') return this.storedAnswer(current, false);
    }
    const errorId = outcome.code === 'internal' ? randomUUID() : undefined;
    this.logger.event(outcome.code === 'internal' ? 'error' : 'warn', 'ingest.failed', {
      job_id: job.id,
      slot_id: slot.id,
      source: job.source,
      status: outcome.status,
      failure_reason: outcome.reason,
      duration_ms: failed.durationMs,
      provider_duration_ms: measured.providerDurationMs,
      provider_finish_reason: failed.providerFinishReason,
      error_id: errorId,
      error: outcome.code === 'internal' && error instanceof Error ? error.message : undefined,
    });
    return outcome.httpStatus === 503
      ? databaseUnavailable(error, job.id)
      : new DomainError(outcome.code, outcome.message, { jobId: job.id });
  }

  /**
   * Writes the failure; while PostgreSQL is unreachable the booth is answered at once and the
   * row is written once the database is back (true: nobody else finished the job meanwhile).
   */
  private async recordFailure(jobId: string, failed: FailedResult): Promise<boolean> {
    try {
      return await this.jobs.fail(jobId, failed);
    } catch (error) {
      if (!isDatabaseUnavailable(error)) throw error;
      this.later(jobId, 'record_failure', () => this.jobs.fail(jobId, failed));
      return true;
    }
  }

  /**
   * Retries `write` while PostgreSQL is unreachable and `worthIt()` holds; any other error, or
   * the last unavailable one, is thrown.
   */
  private async persist<T>(write: () => Promise<T>, worthIt: () => boolean): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await write();
      } catch (error) {
        if (!isDatabaseUnavailable(error) || !worthIt()) throw error;
        await sleep(DATABASE_RETRY_MS[Math.min(attempt, DATABASE_RETRY_MS.length - 1)]);
        if (!worthIt()) throw error;
      }
    }
  }

  /**
   * A write the booth need not wait for, retried in the background until the database is back;
   * past the crash-recovery grace the recovery run finalises the row instead.
   */
  private later(jobId: string, what: string, write: () => Promise<unknown>): void {
    const giveUpAt = Date.now() + INTERRUPTED_AFTER_MS;
    this.logger.event('warn', 'job.write_deferred', { job_id: jobId, write: what });
    this.persist(write, () => Date.now() < giveUpAt).then(
      () => this.logger.event('info', 'job.write_done', { job_id: jobId, write: what }),
      (error: unknown) =>
        this.logger.event('error', 'job.write_failed', {
          job_id: jobId,
          write: what,
          message: error instanceof Error ? error.message : String(error),
        }),
    );
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

interface Classified {
  status: Exclude<JobStatus, 'pending' | 'processing' | 'completed'>;
  reason: string;
  code: ErrorCode;
  message: string;
  httpStatus?: 503;
}

function classify(error: unknown): Classified {
  if (error instanceof JobAborted) {
    return error.why === 'timeout'
      ? {
          status: 'failed_timeout',
          reason: 'timeout',
          code: 'timeout',
          message: 'The photo was not ready before the deadline; print the original',
        }
      : {
          status: 'cancelled',
          reason: 'cancelled',
          code: 'cancelled',
          message: 'The job was cancelled',
        };
  }
  if (error instanceof ProviderError) {
    const messages: Record<ProviderError['reason'], string> = {
      blocked: 'The provider refused to edit this photo',
      provider_error: 'The provider rejected the request',
      bad_response: 'The provider answered something that is not a usable image',
      provider_unavailable: 'The provider is unavailable right now',
      quota: 'The provider quota is exhausted',
      network: 'The provider could not be reached',
      timeout: 'The photo was not ready before the deadline; print the original',
    };
    return {
      status: error.reason === 'timeout' ? 'failed_timeout' : 'failed_provider',
      reason: error.reason,
      code: error.reason,
      message: messages[error.reason],
    };
  }
  if (error instanceof ResultNotImageError) {
    return {
      status: 'failed_provider',
      reason: 'bad_response',
      code: 'bad_response',
      message: 'The provider answered something that is not a usable image',
    };
  }
  if (error instanceof DomainError && error.code === 'storage_full') {
    return {
      status: 'failed_internal',
      reason: 'storage_full',
      code: 'storage_full',
      message: error.message,
    };
  }
  if ((error as NodeJS.ErrnoException | null)?.code === 'ENOSPC') {
    return {
      status: 'failed_internal',
      reason: 'storage_full',
      code: 'storage_full',
      message: 'The server disk is full',
    };
  }
  if (isDatabaseUnavailable(error)) {
    return {
      status: 'failed_internal',
      reason: 'internal',
      code: 'internal',
      message: 'The database is unavailable right now; try again in a moment',
      httpStatus: 503,
    };
  }
  return {
    status: 'failed_internal',
    reason: 'internal',
    code: 'internal',
    message: 'Internal server error',
  };
}

/** The answer's format: the input's by default, or the slot's `output_format`. */
export function outputMime(setting: unknown, input: ImageMime): ImageMime {
  switch (setting) {
    case 'jpeg':
      return 'image/jpeg';
    case 'png':
      return 'image/png';
    case 'webp':
      return 'image/webp';
    default:
      return input;
  }
}

function numberSetting(value: unknown): number | undefined {
  return typeof value === 'number' ? value : undefined;
}
