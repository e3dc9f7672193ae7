import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One settings value; secrets are stored encrypted inside `value`. */
@Entity({ name: 'app_settings' })
export class AppSettingEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  key!: string;

  @Column({ type: 'jsonb' })
  value!: unknown;

  @Column({ type: 'integer', default: 1 })
  version!: number;

  @Column({ type: 'timestamptz' })
  updatedAt!: Date;

  @Column({ type: 'varchar', length: 64, nullable: true })
  updatedBy!: string | null;
}
