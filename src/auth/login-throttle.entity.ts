import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * Failed logins per username+IP, and per IP alone under the username '' (ANY_USERNAME); in
 * PostgreSQL so restarts and other instances see them.
 */
@Entity({ name: 'login_throttle' })
export class LoginThrottleEntity {
  @PrimaryColumn({ type: 'varchar', length: 128 })
  username!: string;

  @PrimaryColumn({ type: 'varchar', length: 64 })
  ip!: string;

  @Column({ type: 'integer' })
  failures!: number;

  @Column({ type: 'timestamptz' })
  windowStartedAt!: Date;

  @Column({ type: 'timestamptz', nullable: true })
  lockedUntil!: Date | null;
}
