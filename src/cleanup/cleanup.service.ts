import { Injectable } from '@nestjs/common';
import { Dirent } from 'node:fs';
import { lstat, readdir, rm } from 'node:fs/promises';
import * as path from 'node:path';
import { AppLogger } from '../common/app-logger';
import { Clock } from '../common/clock';
import { JobRecovery } from '../ingest/job-recovery';
import { MediaObjectsService, PROVIDER_MEDIA_FOLDER } from '../media/media-objects.service';
import { MetricsService } from '../metrics/metrics.service';
import { RemovedFiles, ResultStore, UUID_PATTERN } from '../media/result-store';
import { CleanupRepository } from './cleanup.repository';

export interface CleanupReport {
  /** False when another instance was already cleaning; nothing was done here. */
  ran: boolean;
  expired_results: RemovedFiles;
  expired_media: RemovedFiles;
  orphans: RemovedFiles;
  temp_files: RemovedFiles;
  interrupted_jobs: number;
  duration_ms: number;
}

const BATCH = 500;
// Files younger than this may belong to a write in progress on some instance.
const GRACE_MS = 10 * 60_000;
const SLOT_FOLDER = /^slot-\d{3}$/;

/**
 * Deletes what has outlived its time: expired results (the rows keep their metadata and the
 * links answer 410), expired provider links, folders no job points to, and half-written or
 * abandoned temp files. Never templates, never a result that is still kept.
 */
@Injectable()
export class CleanupService {
  constructor(
    private readonly repository: CleanupRepository,
    private readonly store: ResultStore,
    private readonly mediaObjects: MediaObjectsService,
    private readonly recovery: JobRecovery,
    private readonly metrics: MetricsService,
    private readonly clock: Clock,
    private readonly logger: AppLogger,
  ) {}

  /** The whole sweep; with `slotId`, only that slot's expired results. */
  async run(options: { slotId?: string; trigger: string }): Promise<CleanupReport> {
    const started = Date.now();
    const report: CleanupReport = {
      ran: false,
      expired_results: empty(),
      expired_media: empty(),
      orphans: empty(),
      temp_files: empty(),
      interrupted_jobs: 0,
      duration_ms: 0,
    };
    report.ran = await this.repository.exclusively(async () => {
      report.expired_results = await this.removeExpiredResults(options.slotId);
      if (options.slotId) return;
      report.interrupted_jobs = await this.recovery.finaliseInterrupted();
      report.expired_media = await this.removeExpiredMedia();
      const cutoff = new Date(this.clock.now().getTime() - GRACE_MS);
      report.orphans = add(
        await this.removeOrphanResults(cutoff),
        await this.removeOrphanMedia(cutoff),
      );
      report.temp_files = await this.store.removeStaleTemp(cutoff);
    });
    report.duration_ms = Date.now() - started;
    this.metrics.cleanupDeleted(
      'results',
      report.expired_results.files,
      report.expired_results.bytes,
    );
    this.metrics.cleanupDeleted(
      'provider_media',
      report.expired_media.files,
      report.expired_media.bytes,
    );
    this.metrics.cleanupDeleted('orphans', report.orphans.files, report.orphans.bytes);
    this.metrics.cleanupDeleted('temp', report.temp_files.files, report.temp_files.bytes);
    if (report.ran) {
      const stored = await this.repository.storedBytes();
      this.metrics.setMediaBytes('results', stored.results);
      this.metrics.setMediaBytes('templates', stored.templates);
    }
    this.logger.event('info', report.ran ? 'cleanup.completed' : 'cleanup.skipped', {
      trigger: options.trigger,
      slot_id: options.slotId,
      ...flatten(report),
    });
    return report;
  }

  private async removeExpiredResults(slotId: string | undefined): Promise<RemovedFiles> {
    const total = empty();
    for (;;) {
      const now = this.clock.now();
      const batch = await this.repository.expiredResults(now, slotId, BATCH);
      for (const result of batch) addTo(total, await this.store.remove(result.slotId, result.id));
      await this.repository.markResultsDeleted(
        batch.map((result) => result.id),
        now,
      );
      if (batch.length < BATCH) return total;
    }
  }

  private async removeExpiredMedia(): Promise<RemovedFiles> {
    const total = empty();
    for (;;) {
      const removed = await this.mediaObjects.removeExpired(BATCH);
      addTo(total, removed);
      if (removed.files < BATCH) return total;
    }
  }

  /** `results/{slot}/{job}` folders whose job is gone, or whose result was already deleted. */
  private async removeOrphanResults(cutoff: Date): Promise<RemovedFiles> {
    const total = empty();
    for (const slot of await this.list(path.join(this.store.root, 'results'))) {
      if (!slot.isDirectory() || !SLOT_FOLDER.test(slot.name)) continue;
      const slotDir = path.join(this.store.root, 'results', slot.name);
      const folders = (await this.list(slotDir)).filter(
        (entry) => entry.isDirectory() && UUID_PATTERN.test(entry.name),
      );
      const kept = await this.repository.keptJobIds(folders.map((folder) => folder.name));
      for (const folder of folders) {
        const absolute = path.join(slotDir, folder.name);
        if (kept.has(folder.name)) {
          addTo(total, await this.removeStaleTempFiles(absolute, cutoff));
        } else if (await olderThan(absolute, cutoff)) {
          addTo(total, await this.store.remove(slot.name, folder.name));
        }
      }
    }
    return total;
  }

  /** Files in provider-media/ whose object row is gone or already cleaned. */
  private async removeOrphanMedia(cutoff: Date): Promise<RemovedFiles> {
    const total = empty();
    const folder = path.join(this.store.root, PROVIDER_MEDIA_FOLDER);
    for (const entry of await this.list(folder)) {
      if (!entry.isFile()) continue;
      const absolute = path.join(folder, entry.name);
      if ((await olderThan(absolute, cutoff)) && !(await this.mediaObjects.isLive(entry.name))) {
        addTo(total, await removeFile(absolute));
      }
    }
    return total;
  }

  /** Leftovers of an atomic write that crashed (`.payload.jpg.<random>.tmp`) beside a kept result. */
  private async removeStaleTempFiles(folder: string, cutoff: Date): Promise<RemovedFiles> {
    const total = empty();
    for (const entry of await this.list(folder)) {
      const absolute = path.join(folder, entry.name);
      if (entry.isFile() && entry.name.endsWith('.tmp') && (await olderThan(absolute, cutoff))) {
        addTo(total, await removeFile(absolute));
      }
    }
    return total;
  }

  private async list(folder: string): Promise<Dirent[]> {
    try {
      return await readdir(folder, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }
}

async function olderThan(absolute: string, cutoff: Date): Promise<boolean> {
  const stats = await lstat(absolute).catch(() => undefined);
  return stats !== undefined && stats.mtime < cutoff;
}

async function removeFile(absolute: string): Promise<RemovedFiles> {
  const stats = await lstat(absolute).catch(() => undefined);
  if (!stats) return empty();
  await rm(absolute, { force: true });
  return { files: 1, bytes: stats.size };
}

function empty(): RemovedFiles {
  return { files: 0, bytes: 0 };
}

function addTo(total: RemovedFiles, more: RemovedFiles): void {
  total.files += more.files;
  total.bytes += more.bytes;
}

function add(a: RemovedFiles, b: RemovedFiles): RemovedFiles {
  return { files: a.files + b.files, bytes: a.bytes + b.bytes };
}

function flatten(report: CleanupReport): Record<string, number | boolean> {
  return {
    ran: report.ran,
    expired_result_files: report.expired_results.files,
    expired_result_bytes: report.expired_results.bytes,
    expired_media_files: report.expired_media.files,
    orphan_files: report.orphans.files,
    orphan_bytes: report.orphans.bytes,
    temp_files: report.temp_files.files,
    interrupted_jobs: report.interrupted_jobs,
    duration_ms: report.duration_ms,
  };
}
