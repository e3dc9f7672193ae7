import { Inject, Injectable, Optional } from '@nestjs/common';
import { mkdir, statfs } from 'node:fs/promises';
import { DomainError } from '../common/domain-error';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.tokens';

/** Bytes free to this process on the file system holding `directory`. */
export type FreeSpaceProbe = (directory: string) => Promise<number>;

/** Optional provider: replaces `statfsFreeBytes`, so tests can simulate a full disk. */
export const FREE_SPACE_PROBE = Symbol('FREE_SPACE_PROBE');

/** Counts blocks available to unprivileged users, not the root-reserved ones the server can't use. */
export async function statfsFreeBytes(directory: string): Promise<number> {
  const stats = await statfs(directory);
  return stats.bavail * stats.bsize;
}

const BYTES_PER_MB = 1024 * 1024;

/** Free disk under MEDIA_ROOT, checked before a provider is called (SPEC §7). */
@Injectable()
export class DiskSpace {
  private readonly probe: FreeSpaceProbe;

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    @Optional() @Inject(FREE_SPACE_PROBE) probe?: FreeSpaceProbe,
  ) {
    this.probe = probe ?? statfsFreeBytes;
  }

  /** Whole megabytes free, rounded down. */
  async freeMb(): Promise<number> {
    // statfs needs an existing path, and a fresh install has no media folder yet.
    await mkdir(this.config.mediaRoot, { recursive: true });
    return Math.floor((await this.probe(this.config.mediaRoot)) / BYTES_PER_MB);
  }

  async assertRoomForIngest(): Promise<void> {
    const free = await this.freeMb();
    if (free < this.config.minFreeDiskMb) {
      throw new DomainError(
        'storage_full',
        `Only ${free} MB free under the media folder; at least ${this.config.minFreeDiskMb} MB are needed to accept photos`,
      );
    }
  }
}
