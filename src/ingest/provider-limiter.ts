import { Injectable } from '@nestjs/common';
import type { ProviderId } from '../providers/provider-catalog';

/**
 * `provider_concurrency`: calls beyond the limit wait their turn inside the deadline instead of
 * being refused. The limit is read per call, so a settings change applies at once.
 */
@Injectable()
export class ProviderLimiter {
  private readonly running = new Map<ProviderId, number>();
  private readonly waiting = new Map<ProviderId, Array<() => void>>();

  async run<T>(
    provider: ProviderId,
    limit: number,
    signal: AbortSignal,
    task: () => Promise<T>,
  ): Promise<T> {
    await this.acquire(provider, limit, signal);
    try {
      return await task();
    } finally {
      this.release(provider);
    }
  }

  private acquire(provider: ProviderId, limit: number, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    if ((this.running.get(provider) ?? 0) < limit) {
      this.running.set(provider, (this.running.get(provider) ?? 0) + 1);
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const queue = this.waiting.get(provider) ?? [];
      this.waiting.set(provider, queue);
      const onAbort = (): void => {
        const index = queue.indexOf(grant);
        if (index >= 0) queue.splice(index, 1);
        reject(signal.reason as Error);
      };
      const grant = (): void => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      queue.push(grant);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private release(provider: ProviderId): void {
    const next = this.waiting.get(provider)?.shift();
    // The slot passes straight to the next caller; the running count stays the same.
    if (next) next();
    else this.running.set(provider, Math.max(0, (this.running.get(provider) ?? 1) - 1));
  }
}
