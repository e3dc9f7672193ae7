import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A time-limited, revocable public link to one slot's recent results. */
@Entity({ name: 'gallery_share' })
export class GalleryShareEntity {
  /** The unguessable token in `/public/galleries/{token}`. */
  @PrimaryColumn({ type: 'varchar', length: 64 })
  token!: string;

  @Column({ type: 'varchar', length: 16 })
  slotId!: string;

  @Column({ type: 'timestamptz' })
  createdAt!: Date;

  @Column({ type: 'varchar', length: 64 })
  createdBy!: string;

  @Column({ type: 'timestamptz' })
  expiresAt!: Date;

  @Column({ type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;
}
