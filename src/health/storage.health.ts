import { Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { randomUUID } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.tokens';
import { DiskSpace } from '../media/disk-space';

/** Readiness of MEDIA_ROOT: the folders results and uploads are written to, and room on the disk. */
@Injectable()
export class StorageHealth {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly disk: DiskSpace,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  /**
   * Writes and deletes a probe file in MEDIA_ROOT and MEDIA_ROOT/tmp: a read-only mount or a
   * wrong owner shows here instead of on the first guest's photo. Paths are named relative to
   * MEDIA_ROOT: the answer is public.
   */
  async writable(key: 'media'): Promise<HealthIndicatorResult<'media'>> {
    const check = this.indicators.check(key);
    for (const folder of ['', 'tmp']) {
      const shown = folder ? `MEDIA_ROOT/${folder}` : 'MEDIA_ROOT';
      const probe = path.join(this.config.mediaRoot, folder, `.healthz-${randomUUID()}`);
      try {
        await mkdir(path.dirname(probe), { recursive: true });
        await writeFile(probe, 'ok');
        await rm(probe, { force: true });
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? 'error';
        return check.down({ message: `${shown} is not writable (${code})` });
      }
    }
    return check.up({ folders: ['MEDIA_ROOT', 'MEDIA_ROOT/tmp'] });
  }

  /** Below MIN_FREE_DISK_MB ingest answers 503 `storage_full`, so the instance is not ready. */
  async freeDisk(key: 'disk'): Promise<HealthIndicatorResult<'disk'>> {
    const check = this.indicators.check(key);
    const minimum = this.config.minFreeDiskMb;
    let free: number;
    try {
      free = await this.disk.freeMb();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'error';
      return check.down({ message: `Free space under MEDIA_ROOT could not be read (${code})` });
    }
    const details = { free_mb: free, min_free_mb: minimum };
    return free >= minimum
      ? check.up(details)
      : check.down({
          ...details,
          message: `Only ${free} MB free under MEDIA_ROOT; ingest needs at least ${minimum} MB`,
        });
  }
}
