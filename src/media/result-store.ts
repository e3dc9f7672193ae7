import { Injectable } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { lstat, mkdir, readdir, rm, unlink } from 'node:fs/promises';
import * as path from 'node:path';
import { DomainError } from '../common/domain-error';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.tokens';
import type { ImageMime } from '../providers/provider-driver';
import { writeFileAtomic } from './atomic-file';
import { extensionFor } from './image-format';

export const SLOT_ID_PATTERN = /^slot-\d{3}$/;
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TEMP_PREFIX_PATTERN = /^[a-z0-9][a-z0-9_-]{0,31}$/i;

export interface StoredResult {
  /** Relative to MEDIA_ROOT, `/`-separated: `results/{slot_id}/{job_id}/payload.{ext}`. */
  path: string;
  /** Relative to MEDIA_ROOT: `results/{slot_id}/{job_id}/preview.webp`. */
  previewPath: string;
  sizeBytes: number;
  sha256: string;
}

export interface RemovedFiles {
  files: number;
  bytes: number;
}

/** A path built from, or resolving to, something outside what the store manages. */
export class MediaPathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MediaPathError';
  }
}

/**
 * Result files under MEDIA_ROOT (SPEC §7) and the temp folder uploads stream into. Paths are only
 * ever built from validated ids, and stored paths are relative, so MEDIA_ROOT can move.
 */
@Injectable()
export class ResultStore {
  readonly root: string;
  private readonly tempDir: string;

  constructor(@InjectConfig() config: AppConfig) {
    this.root = path.resolve(config.mediaRoot);
    this.tempDir = path.join(this.root, 'tmp');
  }

  /** Writes the result and its preview atomically: a link never points at half a file. */
  async save(
    slotId: string,
    jobId: string,
    payload: { bytes: Buffer; mimeType: ImageMime },
    preview: Buffer,
  ): Promise<StoredResult> {
    const folder = resultFolder(slotId, jobId);
    const relative = `${folder}/payload.${extensionFor(payload.mimeType)}`;
    const previewRelative = `${folder}/preview.webp`;
    try {
      await mkdir(this.resolve(folder), { recursive: true });
      // Side by side: the booth waits for both fsyncs, not for one after the other. Both are
      // waited for even when one fails, so the cleanup below cannot race the other's rename.
      const written = await Promise.allSettled([
        writeFileAtomic(this.resolve(relative), payload.bytes),
        writeFileAtomic(this.resolve(previewRelative), preview),
      ]);
      const failed = written.find((outcome) => outcome.status === 'rejected');
      if (failed) throw failed.reason;
    } catch (error) {
      // Half a result is no result: no preview without its payload, no empty folder.
      await rm(this.resolve(folder), { recursive: true, force: true }).catch(() => undefined);
      throw asStorageFull(error);
    }
    return {
      path: relative,
      previewPath: previewRelative,
      sizeBytes: payload.bytes.length,
      sha256: createHash('sha256').update(payload.bytes).digest('hex'),
    };
  }

  /** The absolute path of a stored relative one; refuses anything that would leave MEDIA_ROOT. */
  resolve(relativePath: string): string {
    if (
      typeof relativePath !== 'string' ||
      relativePath === '' ||
      relativePath.includes('\0') ||
      relativePath.includes('\\') ||
      path.isAbsolute(relativePath)
    ) {
      throw new MediaPathError(`Not a relative media path: ${JSON.stringify(relativePath)}`);
    }
    const absolute = path.resolve(this.root, relativePath);
    if (!absolute.startsWith(this.root + path.sep)) {
      throw new MediaPathError(`Media path leaves MEDIA_ROOT: ${JSON.stringify(relativePath)}`);
    }
    return absolute;
  }

  /** Deletes a job's result folder; counts what went, for metrics and the cleanup log. */
  async remove(slotId: string, jobId: string): Promise<RemovedFiles> {
    const folder = this.resolve(resultFolder(slotId, jobId));
    const removed = await measure(folder);
    await rm(folder, { recursive: true, force: true });
    return removed;
  }

  /** A fresh, unused path under MEDIA_ROOT/tmp for an upload; the folder is created if missing. */
  async tempPath(prefix: string): Promise<string> {
    if (!TEMP_PREFIX_PATTERN.test(prefix)) {
      throw new MediaPathError(`Bad temp file prefix: ${JSON.stringify(prefix)}`);
    }
    await mkdir(this.tempDir, { recursive: true });
    return path.join(this.tempDir, `${prefix}-${randomUUID()}`);
  }

  /** Deletes a temp file made by `tempPath`; a file already gone is fine. */
  async removeTemp(tempPath: string): Promise<void> {
    const absolute = path.resolve(tempPath);
    if (path.dirname(absolute) !== this.tempDir) {
      throw new MediaPathError(`Not a media temp file: ${JSON.stringify(tempPath)}`);
    }
    await unlink(absolute).catch(ignoreMissing);
  }

  /**
   * Deletes temp files last modified before `cutoff` (all of them without one): uploads a crashed
   * process left behind.
   */
  async removeStaleTemp(cutoff?: Date): Promise<RemovedFiles> {
    const removed: RemovedFiles = { files: 0, bytes: 0 };
    let entries: Dirent[];
    try {
      entries = await readdir(this.tempDir, { withFileTypes: true });
    } catch (error) {
      ignoreMissing(error);
      return removed;
    }
    for (const entry of entries) {
      if (!entry.isFile()) continue;
      const file = path.join(this.tempDir, entry.name);
      const stats = await lstat(file).catch(ignoreMissing);
      if (!stats || (cutoff && stats.mtime >= cutoff)) continue;
      await unlink(file).catch(ignoreMissing);
      removed.files += 1;
      removed.bytes += stats.size;
    }
    return removed;
  }
}

/** `results/{slot_id}/{job_id}`, from ids that cannot contain a path separator or `..`. */
export function resultFolder(slotId: string, jobId: string): string {
  if (!SLOT_ID_PATTERN.test(slotId)) {
    throw new MediaPathError(`Bad slot id: ${JSON.stringify(slotId)}`);
  }
  if (!UUID_PATTERN.test(jobId)) {
    throw new MediaPathError(`Bad job id: ${JSON.stringify(jobId)}`);
  }
  // PostgreSQL prints UUIDs in lower case; one spelling means one folder.
  return `results/${slotId}/${jobId.toLowerCase()}`;
}

async function measure(folder: string): Promise<RemovedFiles> {
  const total: RemovedFiles = { files: 0, bytes: 0 };
  let entries: Dirent[];
  try {
    entries = await readdir(folder, { withFileTypes: true });
  } catch (error) {
    ignoreMissing(error);
    return total;
  }
  for (const entry of entries) {
    const child = path.join(folder, entry.name);
    if (entry.isDirectory()) {
      const inner = await measure(child);
      total.files += inner.files;
      total.bytes += inner.bytes;
    } else {
      const stats = await lstat(child).catch(ignoreMissing);
      if (!stats) continue;
      total.files += 1;
      total.bytes += stats.size;
    }
  }
  return total;
}

function ignoreMissing(error: unknown): undefined {
  if ((error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return undefined;
  throw error;
}

/** ENOSPC and EDQUOT become `storage_full` (503); any other error is returned as it was. */
export function asStorageFull(error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new DomainError('storage_full', 'The disk holding the media folder is full', {
      cause: error,
    });
  }
  return error;
}
