import { Injectable } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { randomUUID } from 'node:crypto';
import { mkdir, rm, stat } from 'node:fs/promises';
import { Clock } from '../common/clock';
import { DomainError } from '../common/domain-error';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.tokens';
import type { ImageMime } from '../providers/provider-driver';
import { writeFileAtomic } from './atomic-file';
import { openForSending, OpenFile } from './file-sender';
import { SettingsService } from '../settings/settings.service';
import { extensionFor, sniffImageType } from './image-format';
import { ImageProcessor } from './image-processor';
import { UploadReceiver } from './upload-receiver';
import type { MediaObjectEntity, MediaObjectKind } from './media-object.entity';
import { MediaObjectsRepository } from './media-objects.repository';
import { asStorageFull, RemovedFiles, ResultStore, UUID_PATTERN } from './result-store';

export const PROVIDER_MEDIA_FOLDER = 'provider-media';
const FOLDER = PROVIDER_MEDIA_FOLDER;

export interface PublishedMedia {
  id: string;
  publicUrl: string;
  expiresAt: Date;
}

export interface MediaOwner {
  kind: MediaObjectKind;
  jobId?: string | null;
  slotId?: string | null;
}

export interface MediaFile extends OpenFile {
  mimeType: string;
}

/**
 * Temporary public files a provider fetches by URL (Turbotext): unguessable ids, a life of
 * `T_sync_response` seconds at most, gone as soon as their job ends.
 */
@Injectable()
export class MediaObjectsService {
  constructor(
    private readonly repository: MediaObjectsRepository,
    private readonly store: ResultStore,
    private readonly receiver: UploadReceiver,
    private readonly images: ImageProcessor,
    private readonly settings: SettingsService,
    private readonly clock: Clock,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  /** `POST /api/media/register`: an admin's image behind a temporary public link. */
  async registerUpload(request: IncomingMessage): Promise<PublishedMedia> {
    const settings = await this.settings.getRuntimeSettings();
    const upload = await this.receiver.receive(request, {
      fileFields: ['file'],
      maxFileBytes: settings.maxUploadMb * 1024 * 1024,
      tempPath: await this.store.tempPath('media'),
    });
    const file = upload.file;
    try {
      if (!file || file.sizeBytes === 0) {
        throw new DomainError('invalid_request', 'The file field is missing or empty');
      }
      if (!sniffImageType(file.head)) {
        throw new DomainError(
          'unsupported_media_type',
          'The file is not a JPEG, PNG or WEBP image',
        );
      }
      const maxPixels = settings.maxInputMegapixels * 1_000_000;
      await this.images.inspect(file.path, { maxPixels });
      // Re-encoded like a guest photo: no camera or GPS metadata behind a public link.
      const image = await this.images.normalizeForProvider(file.path, {
        maxEdgePx: settings.providerMaxEdgePx,
        maxPixels,
      });
      const expiresAt = new Date(this.clock.now().getTime() + settings.syncResponseSeconds * 1000);
      return await this.publish(image, { kind: 'upload' }, expiresAt);
    } finally {
      if (file) await rm(file.path, { force: true });
    }
  }

  async publish(
    image: { bytes: Buffer; mimeType: ImageMime },
    owner: MediaOwner,
    expiresAt: Date,
  ): Promise<PublishedMedia> {
    const id = randomUUID();
    const relative = `${FOLDER}/${id}.${extensionFor(image.mimeType)}`;
    try {
      await mkdir(this.store.resolve(FOLDER), { recursive: true });
      await writeFileAtomic(this.store.resolve(relative), image.bytes);
    } catch (error) {
      throw asStorageFull(error);
    }
    await this.repository.insert({
      id,
      kind: owner.kind,
      jobId: owner.jobId ?? null,
      slotId: owner.slotId ?? null,
      path: relative,
      mimeType: image.mimeType,
      createdAt: this.clock.now(),
      expiresAt,
      cleanedAt: null,
    });
    return { id, publicUrl: this.publicUrl(id), expiresAt };
  }

  /** The file behind `/public/provider-media/{id}`: 404 unknown, 410 once expired or released. */
  async open(id: string): Promise<MediaFile> {
    const row = UUID_PATTERN.test(id) ? await this.repository.findById(id) : null;
    if (!row) throw new DomainError('media_not_found', 'There is no media with this id');
    if (row.cleanedAt || row.expiresAt.getTime() <= this.clock.now().getTime()) {
      throw new DomainError('media_expired', 'This link has expired');
    }
    const opened = await openForSending(this.store.resolve(row.path));
    if (!opened) throw new DomainError('media_expired', 'This link has expired');
    return { ...opened, mimeType: row.mimeType };
  }

  /** Ends every link of a finished job at once, instead of at its expiry. */
  async releaseJob(jobId: string): Promise<RemovedFiles> {
    return this.remove(await this.repository.forJob(jobId));
  }

  /** Deletes expired objects' files (the cleanup run). */
  async removeExpired(limit = 1000): Promise<RemovedFiles> {
    return this.remove(await this.repository.expired(this.clock.now(), limit));
  }

  /** Whether a file under provider-media/ still belongs to a live object. */
  async isLive(fileName: string): Promise<boolean> {
    const id = fileName.replace(/\.[a-z]+$/, '');
    if (!UUID_PATTERN.test(id)) return false;
    const row = await this.repository.findById(id);
    return row !== null && row.cleanedAt === null;
  }

  publicUrl(id: string): string {
    return `${this.config.publicBaseUrl}/public/provider-media/${id}`;
  }

  private async remove(rows: MediaObjectEntity[]): Promise<RemovedFiles> {
    const removed: RemovedFiles = { files: 0, bytes: 0 };
    for (const row of rows) {
      const absolute = this.store.resolve(row.path);
      const size = await stat(absolute).then(
        (stats) => stats.size,
        () => undefined,
      );
      await rm(absolute, { force: true });
      if (size !== undefined) {
        removed.files += 1;
        removed.bytes += size;
      }
    }
    await this.repository.markCleaned(
      rows.map((row) => row.id),
      this.clock.now(),
    );
    return removed;
  }
}
