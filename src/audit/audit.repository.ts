import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AuditLogEntity } from './audit-log.entity';

export interface AuditEntry {
  actor: string;
  entityType: 'slot' | 'settings' | 'account' | 'template_media' | 'job' | 'gallery';
  entityId: string | null;
  action: string;
  oldValue?: Record<string, unknown> | null;
  newValue?: Record<string, unknown> | null;
}

@Injectable()
export class AuditRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Writes inside the caller's transaction when one is given, so the change and its record land together. */
  async record(entry: AuditEntry, at: Date, manager?: EntityManager): Promise<void> {
    const row = (manager ?? this.dataSource.manager).create(AuditLogEntity, {
      createdAt: at,
      actor: entry.actor,
      entityType: entry.entityType,
      entityId: entry.entityId,
      action: entry.action,
      oldValue: entry.oldValue ?? null,
      newValue: entry.newValue ?? null,
    });
    await (manager ?? this.dataSource.manager).save(row);
  }

  async list(limit: number, before?: string): Promise<AuditLogEntity[]> {
    const query = this.dataSource.manager
      .createQueryBuilder(AuditLogEntity, 'a')
      .orderBy('a.id', 'DESC')
      .limit(limit);
    if (before) query.where('a.id < :before', { before });
    return query.getMany();
  }
}
