import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, IsNull, MoreThan } from 'typeorm';
import { AuditRepository } from '../audit/audit.repository';
import { GalleryShareEntity } from './gallery-share.entity';

export interface GalleryShareRecord {
  token: string;
  slotId: string;
  expiresAt: Date;
  revokedAt: Date | null;
}

@Injectable()
export class GalleryRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditRepository,
  ) {}

  /** The slot's link that still works at `now`, if any. */
  async active(slotId: string, now: Date): Promise<GalleryShareRecord | null> {
    return this.dataSource.manager.findOne(GalleryShareEntity, {
      where: { slotId, revokedAt: IsNull(), expiresAt: MoreThan(now) },
      order: { createdAt: 'DESC' },
    });
  }

  async findByToken(token: string): Promise<GalleryShareRecord | null> {
    return this.dataSource.manager.findOneBy(GalleryShareEntity, { token });
  }

  /**
   * Sets the slot's link to expire at `expiresAt`: the working link keeps its token (QR codes
   * already printed keep working), otherwise `newToken` becomes the link. The slot row is locked,
   * so two admins sharing at once end up with one link.
   */
  async share(
    slotId: string,
    newToken: string,
    expiresAt: Date,
    actor: string,
    now: Date,
  ): Promise<GalleryShareRecord> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query('SELECT id FROM slot WHERE id = $1 FOR UPDATE', [slotId]);
      const current = await manager.findOne(GalleryShareEntity, {
        where: { slotId, revokedAt: IsNull(), expiresAt: MoreThan(now) },
        order: { createdAt: 'DESC' },
      });
      const previousExpiry = current?.expiresAt.toISOString();
      let share: GalleryShareEntity;
      if (current) {
        current.expiresAt = expiresAt;
        share = await manager.save(current);
      } else {
        share = await manager.save(
          manager.create(GalleryShareEntity, {
            token: newToken,
            slotId,
            createdAt: now,
            createdBy: actor,
            expiresAt,
            revokedAt: null,
          }),
        );
      }
      await this.audit.record(
        {
          actor,
          entityType: 'gallery',
          entityId: slotId,
          action: current ? 'extend' : 'share',
          oldValue: previousExpiry ? { expires_at: previousExpiry } : null,
          newValue: { expires_at: expiresAt.toISOString() },
        },
        now,
        manager,
      );
      return share;
    });
  }

  /** Revokes every working link of the slot; answers how many there were. */
  async revoke(slotId: string, actor: string, now: Date): Promise<number> {
    return this.dataSource.transaction(async (manager) => {
      const result = await manager
        .createQueryBuilder()
        .update(GalleryShareEntity)
        .set({ revokedAt: now })
        .where('slot_id = :slotId AND revoked_at IS NULL AND expires_at > :now', { slotId, now })
        .execute();
      const revoked = result.affected ?? 0;
      if (revoked > 0) {
        await this.audit.record(
          { actor, entityType: 'gallery', entityId: slotId, action: 'revoke' },
          now,
          manager,
        );
      }
      return revoked;
    });
  }
}
