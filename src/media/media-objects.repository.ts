import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In, IsNull, LessThanOrEqual } from 'typeorm';
import { MediaObjectEntity } from './media-object.entity';

@Injectable()
export class MediaObjectsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async insert(row: MediaObjectEntity): Promise<void> {
    await this.dataSource.manager.insert(MediaObjectEntity, row);
  }

  findById(id: string): Promise<MediaObjectEntity | null> {
    return this.dataSource.manager.findOneBy(MediaObjectEntity, { id });
  }

  /** Live objects of a job: the job ended, so its links end too. */
  forJob(jobId: string): Promise<MediaObjectEntity[]> {
    return this.dataSource.manager.findBy(MediaObjectEntity, { jobId, cleanedAt: IsNull() });
  }

  /** Objects whose time is up but whose files may still be on disk. */
  expired(now: Date, limit: number): Promise<MediaObjectEntity[]> {
    return this.dataSource.manager.find(MediaObjectEntity, {
      where: { expiresAt: LessThanOrEqual(now), cleanedAt: IsNull() },
      order: { expiresAt: 'ASC' },
      take: limit,
    });
  }

  async markCleaned(ids: string[], now: Date): Promise<void> {
    if (ids.length === 0) return;
    await this.dataSource.manager.update(MediaObjectEntity, { id: In(ids) }, { cleanedAt: now });
  }
}
