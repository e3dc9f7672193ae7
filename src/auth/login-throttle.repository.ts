import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { LoginThrottleEntity } from './login-throttle.entity';

export interface ThrottleRules {
  /** Attempts allowed per window (at least 2); the one that reaches it locks the pair. */
  maxFailures: number;
  windowMs: number;
  lockMs: number;
}

export interface ReservedAttempt {
  /** Attempts counted in the current window, this one included. */
  attempts: number;
  lockedUntil: Date | null;
}

/**
 * The username of the row that counts every sign-in from one IP together. The API refuses empty
 * usernames, so no account's row can share it.
 */
export const ANY_USERNAME = '';

// The pair's window (or lock, once set) is over: $3 is now, $4 the start of the current window.
const EXPIRED = 'COALESCE(t.locked_until <= $3, t.window_started_at <= $4)';

@Injectable()
export class LoginThrottleRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Counts an attempt for a username+IP (or, with ANY_USERNAME, for the IP) before its password
   * is checked, in one upsert: the row
   * lock PostgreSQL takes for ON CONFLICT serialises concurrent attempts (on any instance), so
   * a burst of parallel guesses cannot get past the limit while the slow hashes run. The count
   * starts over once the window, or the lock, has run out. A success deletes the row.
   */
  async reserveAttempt(
    username: string,
    ip: string,
    now: Date,
    rules: ThrottleRules,
  ): Promise<ReservedAttempt> {
    const windowCutoff = new Date(now.getTime() - rules.windowMs);
    const lockUntil = new Date(now.getTime() + rules.lockMs);
    const rows: Array<{ failures: number; locked_until: Date | null }> =
      await this.dataSource.query(
        `INSERT INTO login_throttle AS t (username, ip, failures, window_started_at, locked_until)
         VALUES ($1, $2, 1, $3, NULL)
         ON CONFLICT (username, ip) DO UPDATE SET
           failures = CASE WHEN ${EXPIRED} THEN 1 ELSE t.failures + 1 END,
           window_started_at = CASE WHEN ${EXPIRED} THEN $3 ELSE t.window_started_at END,
           locked_until = CASE
             WHEN ${EXPIRED} THEN NULL
             WHEN t.locked_until IS NOT NULL THEN t.locked_until
             WHEN t.failures + 1 >= $6::int THEN $5::timestamptz
           END
         RETURNING t.failures, t.locked_until`,
        [username, ip, now, windowCutoff, lockUntil, rules.maxFailures],
      );
    const row = rows[0];
    return { attempts: row.failures, lockedUntil: row.locked_until };
  }

  async reset(username: string, ip: string): Promise<void> {
    await this.dataSource.manager.delete(LoginThrottleEntity, { username, ip });
  }

  /**
   * Takes back one reserved attempt that turned out to be a success, so a count that is not
   * reset by successes (the whole IP's) holds failures only.
   */
  async refund(username: string, ip: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE login_throttle SET failures = failures - 1
       WHERE username = $1 AND ip = $2 AND failures > 0`,
      [username, ip],
    );
  }

  /** Forgets pairs whose window and lock are over, so guessed usernames do not pile up. */
  async deleteExpired(now: Date, windowMs: number): Promise<void> {
    await this.dataSource.query(
      `DELETE FROM login_throttle
       WHERE COALESCE(locked_until <= $1, window_started_at <= $2)`,
      [now, new Date(now.getTime() - windowMs)],
    );
  }
}
