import { Injectable } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { AuditRepository } from '../audit/audit.repository';
import { Clock } from '../common/clock';
import { DomainError } from '../common/domain-error';
import { isTemplateKind, TemplateKind } from '../providers/provider-catalog';
import type { TemplateImage } from '../providers/provider-driver';
import { SettingsService } from '../settings/settings.service';
import { writeFileAtomic } from './atomic-file';
import { describeUnsupportedImage, extensionFor, sniffImageType } from './image-format';
import { ImageProcessor } from './image-processor';
import { asStorageFull, ResultStore, UUID_PATTERN } from './result-store';
import { TemplateMediaDto } from './dto/template-media.dto';
import type { TemplateMediaEntity } from './template-media.entity';
import { TemplateMediaRepository } from './template-media.repository';
import { UploadReceiver } from './upload-receiver';

const FOLDER = 'templates';
// Templates are kept large enough for any provider_max_edge_px, and no larger.
const STORED_EDGE_PX = 4096;
const SLOT_ID = /^slot-\d{3}$/;

/**
 * Long-lived template images (style, base, background…). They are admin uploads, never jobs:
 * they have no public link and never appear in results, galleries or statistics.
 */
@Injectable()
export class TemplateMediaService {
  constructor(
    private readonly repository: TemplateMediaRepository,
    private readonly receiver: UploadReceiver,
    private readonly images: ImageProcessor,
    private readonly store: ResultStore,
    private readonly settings: SettingsService,
    private readonly audit: AuditRepository,
    private readonly clock: Clock,
  ) {}

  async register(request: IncomingMessage, admin: string): Promise<TemplateMediaDto> {
    const settings = await this.settings.getRuntimeSettings();
    const upload = await this.receiver.receive(request, {
      fileFields: ['file'],
      maxFileBytes: settings.maxUploadMb * 1024 * 1024,
      tempPath: await this.store.tempPath('template'),
    });
    const file = upload.file;
    try {
      const slotId = upload.fields.slot_id;
      const kind = upload.fields.media_kind;
      const errors: Record<string, string> = {};
      if (
        slotId !== undefined &&
        !(SLOT_ID.test(slotId) && (await this.repository.slotExists(slotId)))
      ) {
        errors.slot_id = 'no such slot';
      }
      if (kind !== undefined && !isTemplateKind(kind)) errors.media_kind = 'unknown template kind';
      if (Object.keys(errors).length > 0) {
        throw new DomainError('validation_failed', 'The template was not saved', { errors });
      }
      if (!file || file.sizeBytes === 0)
        throw new DomainError('invalid_request', 'The file field is missing or empty');
      if (!sniffImageType(file.head)) {
        const other = describeUnsupportedImage(file.head);
        throw new DomainError(
          'unsupported_media_type',
          other
            ? `A ${other} image cannot be a template: use JPEG, PNG or WEBP`
            : 'The file is not a JPEG, PNG or WEBP image',
        );
      }
      const maxPixels = settings.maxInputMegapixels * 1_000_000;
      await this.images.inspect(file.path, { maxPixels });
      const image = await this.images.normalizeForProvider(file.path, {
        maxEdgePx: STORED_EDGE_PX,
        maxPixels,
      });
      const preview = await this.images.preview(image.bytes);

      const id = randomUUID();
      const relative = `${FOLDER}/${id}.${extensionFor(image.mimeType)}`;
      try {
        await mkdir(this.store.resolve(FOLDER), { recursive: true });
        await writeFileAtomic(this.store.resolve(relative), image.bytes);
        await writeFileAtomic(this.store.resolve(previewPath(relative)), preview);
      } catch (error) {
        throw asStorageFull(error);
      }
      const row: TemplateMediaEntity = {
        id,
        path: relative,
        mimeType: image.mimeType,
        sizeBytes: image.bytes.length,
        sha256: file.sha256,
        width: image.width,
        height: image.height,
        createdAt: this.clock.now(),
        createdBy: admin,
      };
      await this.repository.insert(row);
      await this.audit.record(
        {
          actor: admin,
          entityType: 'template_media',
          entityId: id,
          action: 'create',
          newValue: {
            mime_type: row.mimeType,
            width: row.width,
            height: row.height,
            slot_id: slotId ?? null,
            media_kind: kind ?? null,
          },
        },
        row.createdAt,
      );
      return toDto(row);
    } finally {
      if (file) await rm(file.path, { force: true });
    }
  }

  /** The admin-only preview (`GET /api/template-media/{id}/preview`). */
  async previewFile(id: string): Promise<string> {
    const row = await this.find(id);
    return this.store.resolve(previewPath(row.path));
  }

  /** 409 while a slot uses it, so a live slot never loses its template. */
  async delete(id: string, admin: string): Promise<void> {
    const row = await this.find(id);
    const outcome = await this.repository.deleteUnused(id);
    if (outcome === 'in_use') {
      const slots = await this.repository.usedBy(id);
      throw new DomainError(
        'template_in_use',
        `This template is used by ${slots.join(', ') || 'a slot'}: remove it from the slot first`,
      );
    }
    if (outcome === 'missing') throw notFound();
    await rm(this.store.resolve(row.path), { force: true });
    await rm(this.store.resolve(previewPath(row.path)), { force: true });
    await this.audit.record(
      {
        actor: admin,
        entityType: 'template_media',
        entityId: id,
        action: 'delete',
        oldValue: { mime_type: row.mimeType },
      },
      this.clock.now(),
    );
  }

  /** A slot's templates as drivers receive them, downscaled like the guest photo. */
  async forSlot(slotId: string, maxEdgePx: number, maxPixels: number): Promise<TemplateImage[]> {
    const bound = await this.repository.boundTo(slotId);
    return Promise.all(
      bound.map(async ({ template, mediaKind }) => {
        const absolute = this.store.resolve(template.path);
        const fits = Math.max(template.width, template.height) <= maxEdgePx;
        const image = fits
          ? {
              bytes: await readFile(absolute),
              mimeType: template.mimeType as TemplateImage['mimeType'],
              width: template.width,
              height: template.height,
            }
          : await this.images.normalizeForProvider(absolute, { maxEdgePx, maxPixels });
        return { ...image, id: template.id, kind: mediaKind as TemplateKind };
      }),
    );
  }

  private async find(id: string): Promise<TemplateMediaEntity> {
    const row = UUID_PATTERN.test(id) ? await this.repository.findById(id) : null;
    if (!row) throw notFound();
    return row;
  }
}

function previewPath(relative: string): string {
  return relative.replace(/\.[a-z]+$/, '.preview.webp');
}

function notFound(): DomainError {
  return new DomainError('media_not_found', 'There is no template with this id');
}

function toDto(row: TemplateMediaEntity): TemplateMediaDto {
  return {
    id: row.id,
    mime_type: row.mimeType,
    size_bytes: row.sizeBytes,
    width: row.width,
    height: row.height,
    preview_url: `/api/template-media/${row.id}/preview`,
  };
}
