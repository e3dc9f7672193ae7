import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { Clock } from '../common/clock';
import { DomainError } from '../common/domain-error';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.tokens';
import { GalleryLinkDto, GALLERY_HOURS, PublicGalleryDto } from './dto/gallery.dto';
import { GalleryRepository, GalleryShareRecord } from './gallery.repository';
import { slotNotFound, SLOT_ID_PATTERN } from './slots.errors';
import { SlotsRepository } from './slots.repository';

const HOUR_MS = 3_600_000;
const GALLERY_RESULTS = 100;
/** 32 random bytes, base64url: 256 bits, 43 characters. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** Time-limited public links to a slot's recent booth results (SPEC §2 "public gallery"). */
@Injectable()
export class GalleryService {
  constructor(
    private readonly galleries: GalleryRepository,
    private readonly slots: SlotsRepository,
    private readonly clock: Clock,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  async share(slotId: string, hours: number | undefined, actor: string): Promise<GalleryLinkDto> {
    await this.findSlot(slotId);
    const now = this.clock.now();
    const expiresAt = new Date(now.getTime() + (hours ?? GALLERY_HOURS.fallback) * HOUR_MS);
    const token = randomBytes(32).toString('base64url');
    return this.link(await this.galleries.share(slotId, token, expiresAt, actor, now));
  }

  async current(slotId: string): Promise<GalleryLinkDto> {
    await this.findSlot(slotId);
    const share = await this.galleries.active(slotId, this.clock.now());
    if (!share) throw new DomainError('gallery_not_found', 'This slot’s gallery is not shared');
    return this.link(share);
  }

  async revoke(slotId: string, actor: string): Promise<void> {
    await this.findSlot(slotId);
    await this.galleries.revoke(slotId, actor, this.clock.now());
  }

  /** What a guest holding the link sees; 404 for an unknown token, 410 once it stopped working. */
  async publicGallery(token: string): Promise<PublicGalleryDto> {
    const share = TOKEN_PATTERN.test(token) ? await this.galleries.findByToken(token) : null;
    if (!share) throw new DomainError('gallery_not_found', 'There is no such gallery');
    const now = this.clock.now();
    if (share.revokedAt || share.expiresAt <= now) {
      throw new DomainError('gallery_expired', 'This gallery link has expired or was revoked');
    }
    const slot = await this.slots.findById(share.slotId);
    if (!slot) throw new DomainError('gallery_not_found', 'There is no such gallery');
    const results = await this.slots.recentResults(share.slotId, now, GALLERY_RESULTS);
    return {
      slot_id: slot.id,
      display_name: slot.displayName,
      expires_at: share.expiresAt.toISOString(),
      results: results.map((result) => {
        const resultUrl = `${this.config.publicBaseUrl}/public/results/${result.jobId}`;
        return {
          job_id: result.jobId,
          result_url: resultUrl,
          preview_url: `${resultUrl}/preview`,
          finished_at: result.finishedAt.toISOString(),
        };
      }),
    };
  }

  private link(share: GalleryShareRecord): GalleryLinkDto {
    return {
      url: `${this.config.publicBaseUrl}/public/galleries/${share.token}`,
      expires_at: share.expiresAt.toISOString(),
    };
  }

  private async findSlot(id: string): Promise<void> {
    const slot = SLOT_ID_PATTERN.test(id) ? await this.slots.findById(id) : null;
    if (!slot) throw slotNotFound(id);
  }
}
