import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintNumber } from '../database/transformers';

/** An admin's long-lived template upload; never public, never a job. */
@Entity({ name: 'template_media' })
export class TemplateMediaEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'text' })
  path!: string;

  @Column({ type: 'varchar', length: 32 })
  mimeType!: string;

  @Column({ type: 'bigint', transformer: bigintNumber })
  sizeBytes!: number;

  @Column({ type: 'char', length: 64 })
  sha256!: string;

  @Column({ type: 'integer' })
  width!: number;

  @Column({ type: 'integer' })
  height!: number;

  @Column({ type: 'timestamptz' })
  createdAt!: Date;

  @Column({ type: 'varchar', length: 64 })
  createdBy!: string;
}
