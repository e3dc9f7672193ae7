import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In } from 'typeorm';
import { TemplateMediaEntity } from './template-media.entity';

export interface BoundTemplate {
  template: TemplateMediaEntity;
  mediaKind: string;
}

@Injectable()
export class TemplateMediaRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async insert(row: TemplateMediaEntity): Promise<void> {
    await this.dataSource.manager.insert(TemplateMediaEntity, row);
  }

  findById(id: string): Promise<TemplateMediaEntity | null> {
    return this.dataSource.manager.findOneBy(TemplateMediaEntity, { id });
  }

  /** Whether `slotId` names one of the 15 slots (an upload's optional `slot_id`). */
  async slotExists(slotId: string): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>('SELECT 1 FROM slot WHERE id = $1', [
      slotId,
    ]);
    return rows.length > 0;
  }

  /** The slots that use a template, in one read. */
  async usedBy(id: string): Promise<string[]> {
    const rows = await this.dataSource.query<Array<{ slot_id: string }>>(
      'SELECT DISTINCT slot_id FROM slot_template_media WHERE template_media_id = $1 ORDER BY slot_id',
      [id],
    );
    return rows.map((row) => row.slot_id);
  }

  /**
   * Deletes the row unless a slot binds it; the foreign key makes the check and the delete one
   * atomic step even against a concurrent slot save.
   */
  async deleteUnused(id: string): Promise<'deleted' | 'in_use' | 'missing'> {
    try {
      const result = await this.dataSource.manager.delete(TemplateMediaEntity, { id });
      return result.affected === 1 ? 'deleted' : 'missing';
    } catch (error) {
      if ((error as { code?: string }).code === '23503') return 'in_use';
      throw error;
    }
  }

  /** A slot's templates in the order drivers send them: media kind, then upload time. */
  async boundTo(slotId: string): Promise<BoundTemplate[]> {
    const rows = await this.dataSource.query<Array<{ id: string; media_kind: string }>>(
      `SELECT t.id, b.media_kind
         FROM slot_template_media b JOIN template_media t ON t.id = b.template_media_id
        WHERE b.slot_id = $1
        ORDER BY b.media_kind, t.created_at`,
      [slotId],
    );
    if (rows.length === 0) return [];
    const templates = await this.dataSource.manager.findBy(TemplateMediaEntity, {
      id: In(rows.map((row) => row.id)),
    });
    const byId = new Map(templates.map((template) => [template.id, template]));
    return rows.flatMap((row) => {
      const template = byId.get(row.id);
      return template ? [{ template, mediaKind: row.media_kind }] : [];
    });
  }
}
