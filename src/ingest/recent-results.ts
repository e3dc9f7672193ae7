import type { JobResult } from './jobs.repository';

const MAX_ENTRIES = 2_000;
const TTL_MS = 30_000;

/**
 * The rows of results downloaded lately, so a result opened by a guest, their friends and the
 * gallery does not cost a database round trip each time. Only downloadable rows are kept, and
 * only their immutable facts: expiry is still checked on every read, and a result deleted
 * anywhere (guest request, purge, cleanup) loses its files first, so opening it answers 410.
 */
export class RecentResults {
  private readonly entries = new Map<string, { row: JobResult; until: number }>();

  get(id: string, now: number): JobResult | undefined {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    if (entry.until <= now) {
      this.entries.delete(id);
      return undefined;
    }
    return entry.row;
  }

  remember(row: JobResult, now: number): void {
    this.entries.delete(row.id);
    this.entries.set(row.id, { row, until: now + TTL_MS });
    // A Map iterates in insertion order: the first key is the oldest.
    if (this.entries.size > MAX_ENTRIES) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }

  forget(id: string): void {
    this.entries.delete(id);
  }
}
