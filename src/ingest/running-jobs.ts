import { Injectable, OnModuleDestroy } from '@nestjs/common';
import type { Deadline } from './deadline';
import { JobsRepository } from './jobs.repository';

const POLL_MS = 1000;

/**
 * The jobs this instance is running, so a cancel reaches them: directly when the cancel lands
 * here, and through one query a second for all of them when it lands on another instance.
 */
@Injectable()
export class RunningJobs implements OnModuleDestroy {
  private readonly jobs = new Map<string, Deadline>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly repository: JobsRepository) {}

  add(jobId: string, deadline: Deadline): void {
    this.jobs.set(jobId, deadline);
    this.timer ??= setInterval(() => void this.pollCancellations(), POLL_MS);
  }

  remove(jobId: string): void {
    this.jobs.delete(jobId);
    if (this.jobs.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  cancel(jobId: string): void {
    this.jobs.get(jobId)?.abort('cancelled');
  }

  get size(): number {
    return this.jobs.size;
  }

  /** The ids of the jobs running here: alive, whatever their deadline says. */
  get ids(): string[] {
    return [...this.jobs.keys()];
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private async pollCancellations(): Promise<void> {
    try {
      for (const id of await this.repository.cancelledAmong([...this.jobs.keys()])) this.cancel(id);
    } catch {
      // The database is briefly unreachable: the next tick tries again.
    }
  }
}
