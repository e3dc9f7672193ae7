import { Injectable } from '@nestjs/common';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DomainError, statusOf } from '../common/domain-error';
import { domainErrorOf } from '../common/error.filter';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.tokens';
import { JobAborted } from '../ingest/deadline';
import { statfsFreeBytes } from '../media/disk-space';
import type { ProviderId } from '../providers/provider-catalog';
import { ProviderError } from '../providers/provider-driver';
import { SLOT_ID_PATTERN } from '../slots/slots.errors';

/** Resolves 1–60 s, the range a booth's deadline lives in (SPEC §2: 10–60 s, default 48). */
export const DURATION_BUCKETS = [0.5, 1, 2, 3, 5, 8, 10, 15, 20, 30, 40, 48, 60, 90];

/** What a cleanup run deleted, one value per kind of file. */
export type CleanupKind = 'results' | 'provider_media' | 'orphans' | 'temp';

/** What the media folder holds, one gauge value each. */
export type MediaKind = 'results' | 'templates' | 'provider_media';

/**
 * The `photochanger_*` metrics of one app instance. Callers report what happened in domain
 * terms; the label values (bounded sets only) are decided here.
 */
@Injectable()
export class MetricsService {
  private readonly ingestRequests: Counter<'slot' | 'status' | 'failure_reason'>;
  private readonly ingestDuration: Histogram<'slot' | 'outcome'>;
  private readonly ingestTimeouts: Counter<'slot'>;
  private readonly providerDuration: Histogram<'provider' | 'outcome'>;
  private readonly providerErrors: Counter<'provider' | 'reason'>;
  private readonly jobsInFlight: Gauge;
  private readonly cleanupFiles: Counter<'kind'>;
  private readonly cleanupBytes: Counter<'kind'>;
  private readonly mediaBytes: Gauge<'kind'>;
  private readonly loginFailures: Counter;

  constructor(
    private readonly registry: Registry,
    @InjectConfig() config: Pick<AppConfig, 'mediaRoot' | 'minFreeDiskMb'>,
  ) {
    const registers = [registry];
    this.ingestRequests = new Counter({
      name: 'photochanger_ingest_requests_total',
      help: 'Ingest answers by slot, HTTP status and failure_reason ("none" on success); refusals included',
      labelNames: ['slot', 'status', 'failure_reason'],
      registers,
    });
    this.ingestDuration = new Histogram({
      name: 'photochanger_ingest_duration_seconds',
      help: 'Time from the first byte of an ingest to its answer, for requests that became a job',
      labelNames: ['slot', 'outcome'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.ingestTimeouts = new Counter({
      name: 'photochanger_ingest_timeouts_total',
      help: 'Ingests answered 504 because the deadline passed',
      labelNames: ['slot'],
      registers,
    });
    this.providerDuration = new Histogram({
      name: 'photochanger_provider_duration_seconds',
      help: 'One provider call (each retry and fallback counts), by provider and outcome',
      labelNames: ['provider', 'outcome'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.providerErrors = new Counter({
      name: 'photochanger_provider_errors_total',
      help: 'Failed provider calls by provider and reason (retried ones included)',
      labelNames: ['provider', 'reason'],
      registers,
    });
    this.jobsInFlight = new Gauge({
      name: 'photochanger_jobs_in_flight',
      help: 'Jobs this instance is running now (ingest and test-runs)',
      registers,
    });
    this.cleanupFiles = new Counter({
      name: 'photochanger_cleanup_deleted_files_total',
      help: 'Files deleted by cleanup runs, by kind',
      labelNames: ['kind'],
      registers,
    });
    this.cleanupBytes = new Counter({
      name: 'photochanger_cleanup_deleted_bytes_total',
      help: 'Bytes deleted by cleanup runs, by kind',
      labelNames: ['kind'],
      registers,
    });
    this.mediaBytes = new Gauge({
      name: 'photochanger_media_bytes',
      help: 'Bytes stored under MEDIA_ROOT by kind, as last measured',
      labelNames: ['kind'],
      registers,
    });
    // Free space is read at scrape time, so the disk alert works without a node exporter.
    new Gauge({
      name: 'photochanger_media_free_bytes',
      help: 'Bytes free to the server on the file system holding MEDIA_ROOT',
      registers,
      async collect() {
        this.set(await freeBytesUnder(config.mediaRoot));
      },
    });
    new Gauge({
      name: 'photochanger_media_min_free_bytes',
      help: 'MIN_FREE_DISK_MB in bytes: below it ingest answers 503 storage_full',
      registers,
    }).set(config.minFreeDiskMb * 1024 * 1024);
    this.loginFailures = new Counter({
      name: 'photochanger_login_failures_total',
      help: 'Admin logins refused: wrong credentials (401) or throttled (429)',
      registers,
    });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The Prometheus text exposition of this instance's metrics. */
  exposition(): Promise<string> {
    return this.registry.metrics();
  }

  /**
   * Passes a booth's answer through, counting it and timing it. Only `POST /ingest`: test-runs
   * are an admin's tries, not booth traffic.
   */
  async measureIngest<T>(slotId: string, answer: Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      const result = await answer;
      this.recordIngest(slotId, undefined, started);
      return result;
    } catch (error) {
      this.recordIngest(slotId, error, started);
      throw error;
    }
  }

  /** An ingest refused by the 100-continue hook, before the request reached the pipeline. */
  ingestRefused(slotId: string, refusal: DomainError): void {
    this.recordIngest(slotId, refusal, performance.now());
  }

  private recordIngest(slotId: string, error: unknown, started: number): void {
    let status = 200;
    let reason = 'none';
    let aboutJob = true;
    if (error !== undefined) {
      // Counted as the error filter answers it (an unreachable database is a 503 `internal`).
      const answered = domainErrorOf(error);
      status = statusOf(answered);
      reason = answered.code;
      aboutJob = answered.options.jobId !== undefined;
    }
    const slot = slotLabel(slotId, reason);
    this.ingestRequests.inc({ slot, status: String(status), failure_reason: reason });
    if (aboutJob) {
      const outcome = reason === 'none' ? 'completed' : reason;
      this.ingestDuration.observe({ slot, outcome }, (performance.now() - started) / 1000);
    }
    if (reason === 'timeout') this.ingestTimeouts.inc({ slot });
  }

  /**
   * Times one provider call (each retry and fallback is one) from the moment it is under way and
   * records how it ended; the call's own result or error passes through.
   */
  async observeProviderCall<T>(
    provider: ProviderId,
    deadline: AbortSignal,
    call: Promise<T>,
  ): Promise<T> {
    const started = performance.now();
    let outcome = 'success';
    try {
      return await call;
    } catch (error) {
      outcome = providerOutcome(error, deadline);
      // A cancel is the admin's choice, not the provider's fault.
      if (outcome !== 'cancelled') this.providerErrors.inc({ provider, reason: outcome });
      throw error;
    } finally {
      this.providerDuration.observe({ provider, outcome }, (performance.now() - started) / 1000);
    }
  }

  /** Counts a running job; call the returned function exactly when it ends. */
  jobStarted(): () => void {
    this.jobsInFlight.inc();
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.jobsInFlight.dec();
    };
  }

  /** For the cleanup run: what one kind of sweep deleted. */
  cleanupDeleted(kind: CleanupKind, files: number, bytes: number): void {
    if (files > 0) this.cleanupFiles.inc({ kind }, files);
    if (bytes > 0) this.cleanupBytes.inc({ kind }, bytes);
  }

  /** For whoever measures storage: the bytes one kind of media takes now. */
  setMediaBytes(kind: MediaKind, bytes: number): void {
    this.mediaBytes.set({ kind }, bytes);
  }

  loginFailed(): void {
    this.loginFailures.inc();
  }
}

/**
 * Free bytes on the file system that holds (or will hold: a fresh install creates MEDIA_ROOT on
 * first use) `folder`; NaN when even the root cannot be read, so no alert fires on a made-up 0.
 */
async function freeBytesUnder(folder: string): Promise<number> {
  for (let current = path.resolve(folder); ; current = path.dirname(current)) {
    try {
      return await statfsFreeBytes(current);
    } catch {
      if (current === path.dirname(current)) return NaN;
    }
  }
}

/** Real slot ids as they are; anything else collapses to "unknown" so labels stay bounded. */
function slotLabel(slotId: string, failureReason: string): string {
  return failureReason !== 'slot_not_found' && SLOT_ID_PATTERN.test(slotId) ? slotId : 'unknown';
}

/** How a provider call ended: our own deadline or cancel wins over what the driver made of it. */
function providerOutcome(error: unknown, deadline: AbortSignal): string {
  if (deadline.aborted && deadline.reason instanceof JobAborted) return deadline.reason.why;
  if (error instanceof ProviderError) return error.reason;
  return 'internal';
}
