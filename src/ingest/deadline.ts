/** Why a job's signal fired. */
export type AbortCause = 'timeout' | 'cancelled';

export class JobAborted extends Error {
  constructor(readonly why: AbortCause) {
    super(why === 'timeout' ? 'The deadline was reached' : 'The job was cancelled');
    this.name = 'JobAborted';
  }
}

/**
 * The one deadline of an ingest: a signal that fires at `deadlineAt` (or on cancel), shared by
 * the provider call, its retries and the result download.
 */
export class Deadline {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;

  constructor(readonly deadlineAt: number) {
    this.timer = setTimeout(() => this.abort('timeout'), Math.max(0, deadlineAt - Date.now()));
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  remainingMs(): number {
    return this.deadlineAt - Date.now();
  }

  abort(cause: AbortCause): void {
    if (!this.controller.signal.aborted) this.controller.abort(new JobAborted(cause));
  }

  dispose(): void {
    clearTimeout(this.timer);
  }

  /** Settles with `work`, or rejects with JobAborted the moment the signal fires, whichever is first. */
  race<T>(work: Promise<T>): Promise<T> {
    const signal = this.signal;
    if (signal.aborted) {
      work.catch(() => undefined);
      return Promise.reject(signal.reason as Error);
    }
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => reject(signal.reason as Error);
      signal.addEventListener('abort', onAbort, { once: true });
      work.then(
        (value) => {
          signal.removeEventListener('abort', onAbort);
          resolve(value);
        },
        (error: Error) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
  }
}
