import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, In } from 'typeorm';
import { AuditRepository } from '../audit/audit.repository';
import type { JobStatus } from '../ingest/job.entity';
import { TemplateMediaEntity } from '../media/template-media.entity';
import type { ProviderId } from '../providers/provider-catalog';
import { SlotTemplateMediaEntity } from './slot-template-media.entity';
import { SlotEntity } from './slot.entity';

export interface SlotRecord {
  id: string;
  displayName: string;
  provider: ProviderId | null;
  operation: string | null;
  settings: Record<string, unknown>;
  isActive: boolean;
  version: number;
  updatedAt: Date;
  updatedBy: string | null;
  /** Start of the slot's latest booth (`ingest`) job. */
  lastJobAt: Date | null;
  lastStatus: JobStatus | null;
}

export interface TemplateBinding {
  mediaKind: string;
  templateMediaId: string;
}

export interface TemplateBindingRecord extends TemplateBinding {
  mimeType: string;
  width: number;
  height: number;
}

export interface RecentResultRecord {
  jobId: string;
  finishedAt: Date;
  expiresAt: Date;
  mimeType: string;
}

/** Everything an admin sets on a slot in one save. */
export interface SlotChange {
  displayName: string;
  provider: ProviderId | null;
  operation: string | null;
  isActive: boolean;
  settings: Record<string, unknown>;
  templateMedia: TemplateBinding[];
}

export type ReplaceOutcome =
  | { kind: 'replaced' }
  | { kind: 'not_found' }
  | { kind: 'version_conflict'; currentVersion: number }
  | { kind: 'templates_missing'; templateMediaIds: string[] };

interface SlotRow {
  id: string;
  display_name: string;
  provider: ProviderId | null;
  operation: string | null;
  settings: Record<string, unknown>;
  is_active: boolean;
  version: number;
  updated_at: Date;
  updated_by: string | null;
  last_job_at: Date | null;
  last_status: JobStatus | null;
}

// Test-runs are the admin trying a slot out: the dashboard shows what the booth last got.
const SLOTS_WITH_LAST_JOB = `
  SELECT s.id, s.display_name, s.provider, s.operation, s.settings, s.is_active, s.version,
         s.updated_at, s.updated_by, j.started_at AS last_job_at, j.status AS last_status
  FROM slot s
  LEFT JOIN LATERAL (
    SELECT started_at, status FROM job
    WHERE job.slot_id = s.id AND job.source = 'ingest'
    ORDER BY started_at DESC
    LIMIT 1
  ) j ON true`;

/** Rolls a transaction back while carrying the reason out of it. */
class Abort extends Error {
  constructor(readonly outcome: ReplaceOutcome) {
    super(outcome.kind);
  }
}

@Injectable()
export class SlotsRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditRepository,
  ) {}

  /** All slots with their latest job, in one query. */
  async list(): Promise<SlotRecord[]> {
    const rows = await this.dataSource.query<SlotRow[]>(`${SLOTS_WITH_LAST_JOB} ORDER BY s.id`);
    return rows.map(toRecord);
  }

  async findById(id: string): Promise<SlotRecord | null> {
    const rows = await this.dataSource.query<SlotRow[]>(`${SLOTS_WITH_LAST_JOB} WHERE s.id = $1`, [
      id,
    ]);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async templateBindings(slotId: string): Promise<TemplateBindingRecord[]> {
    const rows = await this.dataSource
      .createQueryBuilder(SlotTemplateMediaEntity, 'b')
      .innerJoin(TemplateMediaEntity, 't', 't.id = b.templateMediaId')
      .select([
        'b.mediaKind AS media_kind',
        'b.templateMediaId AS template_media_id',
        't.mimeType AS mime_type',
        't.width AS width',
        't.height AS height',
      ])
      .where('b.slotId = :slotId', { slotId })
      .orderBy('b.position')
      .addOrderBy('b.mediaKind')
      .getRawMany<{
        media_kind: string;
        template_media_id: string;
        mime_type: string;
        width: number;
        height: number;
      }>();
    return rows.map((row) => ({
      mediaKind: row.media_kind,
      templateMediaId: row.template_media_id,
      mimeType: row.mime_type,
      width: row.width,
      height: row.height,
    }));
  }

  /**
   * The newest completed booth results whose files are still served at `now`. Test-run results
   * are left out: they are the admin's own photos, shown where the test ran.
   */
  async recentResults(slotId: string, now: Date, limit: number): Promise<RecentResultRecord[]> {
    const rows = await this.dataSource.query<
      Array<{ id: string; finished_at: Date; result_expires_at: Date; result_mime_type: string }>
    >(
      `SELECT id, finished_at, result_expires_at, result_mime_type FROM job
       WHERE slot_id = $1 AND source = 'ingest' AND status = 'completed'
         AND result_path IS NOT NULL AND result_deleted_at IS NULL AND result_expires_at > $2
       ORDER BY finished_at DESC
       LIMIT $3`,
      [slotId, now, limit],
    );
    return rows.map((row) => ({
      jobId: row.id,
      finishedAt: row.finished_at,
      expiresAt: row.result_expires_at,
      mimeType: row.result_mime_type,
    }));
  }

  async existingTemplateIds(ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.dataSource.manager.find(TemplateMediaEntity, {
      select: { id: true },
      where: { id: In(ids) },
    });
    return new Set(rows.map((row) => row.id));
  }

  /**
   * Replaces the slot's editable fields and bindings if it is still at `expectedVersion`, and
   * records the change in `audit_log`, all in one transaction.
   */
  async replace(
    id: string,
    expectedVersion: number,
    change: SlotChange,
    actor: string,
    at: Date,
  ): Promise<ReplaceOutcome> {
    try {
      return await this.dataSource.transaction(async (manager) => {
        const old = await manager.findOne(SlotEntity, {
          where: { id },
          lock: { mode: 'pessimistic_write' },
        });
        if (!old) throw new Abort({ kind: 'not_found' });
        const oldBindings = await this.bindings(manager, id);

        const updated = await manager
          .createQueryBuilder()
          .update(SlotEntity)
          .set({
            displayName: change.displayName,
            provider: change.provider,
            operation: change.operation,
            isActive: change.isActive,
            settings: change.settings,
            version: () => 'version + 1',
            updatedAt: at,
            updatedBy: actor,
          })
          .where('id = :id AND version = :expectedVersion', { id, expectedVersion })
          .execute();
        if (updated.affected !== 1) {
          throw new Abort({ kind: 'version_conflict', currentVersion: old.version });
        }

        await this.lockTemplates(manager, change.templateMedia);
        await manager.delete(SlotTemplateMediaEntity, { slotId: id });
        if (change.templateMedia.length > 0) {
          await manager.insert(
            SlotTemplateMediaEntity,
            change.templateMedia.map((binding, position) => ({ slotId: id, ...binding, position })),
          );
        }

        await this.audit.record(
          {
            actor,
            entityType: 'slot',
            entityId: id,
            action: 'update',
            oldValue: snapshot(old, oldBindings),
            newValue: snapshot({ ...change, version: expectedVersion + 1 }, change.templateMedia),
          },
          at,
          manager,
        );
        return { kind: 'replaced' } as const;
      });
    } catch (error) {
      if (error instanceof Abort) return error.outcome;
      throw error;
    }
  }

  private async bindings(manager: EntityManager, slotId: string): Promise<TemplateBinding[]> {
    const rows = await manager.find(SlotTemplateMediaEntity, {
      where: { slotId },
      order: { position: 'ASC', mediaKind: 'ASC' },
    });
    return rows.map((row) => ({ mediaKind: row.mediaKind, templateMediaId: row.templateMediaId }));
  }

  /** Holds the templates until commit, so a concurrent delete cannot slip in after the check. */
  private async lockTemplates(manager: EntityManager, bindings: TemplateBinding[]): Promise<void> {
    const ids = [...new Set(bindings.map((binding) => binding.templateMediaId))];
    if (ids.length === 0) return;
    const found = await manager
      .createQueryBuilder(TemplateMediaEntity, 't')
      .select('t.id')
      .where({ id: In(ids) })
      .setLock('for_key_share')
      .getMany();
    const present = new Set(found.map((row) => row.id));
    const missing = ids.filter((templateId) => !present.has(templateId));
    if (missing.length > 0)
      throw new Abort({ kind: 'templates_missing', templateMediaIds: missing });
  }
}

function toRecord(row: SlotRow): SlotRecord {
  return {
    id: row.id,
    displayName: row.display_name,
    provider: row.provider,
    operation: row.operation,
    settings: row.settings,
    isActive: row.is_active,
    version: row.version,
    updatedAt: row.updated_at,
    updatedBy: row.updated_by,
    lastJobAt: row.last_job_at,
    lastStatus: row.last_status,
  };
}

function snapshot(
  slot: Omit<SlotChange, 'templateMedia'> & { version: number },
  bindings: TemplateBinding[],
): Record<string, unknown> {
  return {
    display_name: slot.displayName,
    provider: slot.provider,
    operation: slot.operation,
    is_active: slot.isActive,
    settings: slot.settings,
    template_media: bindings.map((binding) => ({
      media_kind: binding.mediaKind,
      template_media_id: binding.templateMediaId,
    })),
    version: slot.version,
  };
}
