import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { ProviderId } from '../providers/provider-catalog';

@Entity({ name: 'slot' })
export class SlotEntity {
  /** `slot-001` … `slot-015`, created by a migration. */
  @PrimaryColumn({ type: 'varchar', length: 16 })
  id!: string;

  @Column({ type: 'varchar', length: 100 })
  displayName!: string;

  @Column({ type: 'varchar', length: 32, nullable: true })
  provider!: ProviderId | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  operation!: string | null;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  settings!: Record<string, unknown>;

  @Column({ type: 'boolean', default: false })
  isActive!: boolean;

  @Column({ type: 'integer', default: 1 })
  version!: number;

  @Column({ type: 'timestamptz' })
  updatedAt!: Date;

  @Column({ type: 'varchar', length: 64, nullable: true })
  updatedBy!: string | null;
}
