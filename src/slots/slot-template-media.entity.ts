import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Binds a long-lived template image to a slot in a role (`style`, `base`, …). */
@Entity({ name: 'slot_template_media' })
export class SlotTemplateMediaEntity {
  @PrimaryColumn({ type: 'varchar', length: 16 })
  slotId!: string;

  @PrimaryColumn({ type: 'varchar', length: 32 })
  mediaKind!: string;

  @PrimaryColumn({ type: 'uuid' })
  templateMediaId!: string;

  @Column({ type: 'integer', default: 0 })
  position!: number;
}
