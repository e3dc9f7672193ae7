import { Column, Entity, PrimaryColumn } from 'typeorm';

export type MediaObjectKind = 'ingest' | 'template_link' | 'upload';

/** A temporary public file (a provider fetches it by URL); lives `T_sync_response` seconds. */
@Entity({ name: 'media_object' })
export class MediaObjectEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'varchar', length: 16 })
  kind!: MediaObjectKind;

  @Column({ type: 'uuid', nullable: true })
  jobId!: string | null;

  @Column({ type: 'varchar', length: 16, nullable: true })
  slotId!: string | null;

  @Column({ type: 'text' })
  path!: string;

  @Column({ type: 'varchar', length: 32 })
  mimeType!: string;

  @Column({ type: 'timestamptz' })
  createdAt!: Date;

  @Column({ type: 'timestamptz' })
  expiresAt!: Date;

  @Column({ type: 'timestamptz', nullable: true })
  cleanedAt!: Date | null;
}
