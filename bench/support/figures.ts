/** Reading and printing figures: percentiles, units, table rows, the server's RSS and metrics. */
import { readFileSync } from 'node:fs';

export const MB = 1024 * 1024;

export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? NaN;
}

export const mb = (bytes: number): string => (bytes / 1_000_000).toFixed(1);
export const seconds = (ms: number): string => (ms / 1000).toFixed(1);
export const fmt = (ms: number): string => (Number.isFinite(ms) ? ms.toFixed(0) : '–');
export const verdict = (pass: boolean): string => (pass ? 'PASS' : 'MISS');

export function out(line = ''): void {
  console.log(line);
}

export function row(cells: Array<string | number>, widths: number[]): string {
  return cells
    .map((cell, i) =>
      i === 0 ? String(cell).padEnd(widths[i] ?? 10) : String(cell).padStart(widths[i] ?? 10),
    )
    .join('  ');
}

/** A process's resident set (VmRSS) or its high-water mark (VmHWM), in bytes; NaN once gone. */
export function procStatus(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(
      readFileSync(`/proc/${pid}/status`, 'utf8'),
    );
    return match ? Number(match[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

export async function eventLoopP99(base: string): Promise<{ p99: number; max: number }> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const read = (name: string) =>
    Number(new RegExp(`^${name}\\s+(\\S+)`, 'm').exec(text)?.[1] ?? NaN) * 1000;
  return {
    p99: read('nodejs_eventloop_lag_p99_seconds'),
    max: read('nodejs_eventloop_lag_max_seconds'),
  };
}

/** One sample of a metric from a Prometheus text exposition; NaN when absent. */
export function metricValue(text: string, name: string): number {
  return Number(new RegExp(`^${name}\\s+(\\S+)`, 'm').exec(text)?.[1] ?? NaN);
}

export function median(samples: number[]): number {
  return percentile(samples, 0.5);
}
