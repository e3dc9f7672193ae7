/** Rejects when `work` takes longer than `ms`: a probe must answer even when a dependency hangs. */
export function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timeout of ${ms}ms exceeded`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
