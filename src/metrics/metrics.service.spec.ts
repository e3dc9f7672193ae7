import { tmpdir } from 'node:os';
import { Registry } from 'prom-client';
import { DomainError } from '../common/domain-error';
import { JobAborted } from '../ingest/deadline';
import { ProviderError } from '../providers/provider-driver';
import { MetricsService } from './metrics.service';

/** One sample's value by its exposed name (histograms: `_count`, `_sum`); 0 when absent. */
async function value(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric =
    registry.getSingleMetric(name) ??
    registry.getSingleMetric(name.replace(/_(count|sum|bucket)$/, ''));
  if (!metric) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  const wanted = JSON.stringify(Object.entries(labels).sort());
  const found = values.find(
    (sample) =>
      ((sample as { metricName?: string }).metricName ?? name) === name &&
      JSON.stringify(Object.entries(sample.labels).sort()) === wanted,
  );
  return found?.value ?? 0;
}

const CONFIG = { mediaRoot: tmpdir(), minFreeDiskMb: 500 };

function aborted(why: 'timeout' | 'cancelled'): AbortSignal {
  const controller = new AbortController();
  controller.abort(new JobAborted(why));
  return controller.signal;
}

describe('MetricsService', () => {
  let registry: Registry;
  let metrics: MetricsService;

  beforeEach(() => {
    registry = new Registry();
    metrics = new MetricsService(registry, CONFIG);
  });

  describe('ingest answers', () => {
    it('labels a success with the slot, 200 and "none"', async () => {
      await metrics.measureIngest('slot-003', Promise.resolve('photo'));
      expect(
        await value(registry, 'photochanger_ingest_requests_total', {
          slot: 'slot-003',
          status: '200',
          failure_reason: 'none',
        }),
      ).toBe(1);
    });

    it('passes the answer and the error through unchanged', async () => {
      await expect(metrics.measureIngest('slot-001', Promise.resolve(42))).resolves.toBe(42);
      const error = new DomainError('slot_busy', 'busy');
      await expect(metrics.measureIngest('slot-001', Promise.reject(error))).rejects.toBe(error);
    });

    it('collapses ids that are not slots to "unknown"', async () => {
      for (const id of ['slot-999', '../../etc/passwd', 'x'.repeat(500)]) {
        metrics.ingestRefused(id, new DomainError('slot_not_found', 'no'));
      }
      metrics.ingestRefused('evil\n{label}', new DomainError('payload_too_large', 'big'));
      const series = (await registry.getSingleMetric('photochanger_ingest_requests_total')!.get())
        .values;
      expect(new Set(series.map((sample) => sample.labels.slot))).toEqual(new Set(['unknown']));
    });

    it('counts a 504 as a timeout of its slot, and an unexpected error as 500 internal', async () => {
      const timeout = new DomainError('timeout', 'late', { jobId: 'j1' });
      await metrics.measureIngest('slot-002', Promise.reject(timeout)).catch(() => undefined);
      await metrics
        .measureIngest('slot-002', Promise.reject(new Error('boom')))
        .catch(() => undefined);
      expect(
        await value(registry, 'photochanger_ingest_timeouts_total', { slot: 'slot-002' }),
      ).toBe(1);
      expect(
        await value(registry, 'photochanger_ingest_requests_total', {
          slot: 'slot-002',
          status: '500',
          failure_reason: 'internal',
        }),
      ).toBe(1);
    });
  });

  describe('provider calls', () => {
    const live = new AbortController().signal;

    it('records the reason of a ProviderError', async () => {
      const error = new ProviderError('quota', 'quota');
      await metrics.observeProviderCall('gemini', live, Promise.reject(error)).catch(() => null);
      expect(
        await value(registry, 'photochanger_provider_errors_total', {
          provider: 'gemini',
          reason: 'quota',
        }),
      ).toBe(1);
    });

    it('names our deadline, not what the driver made of the abort', async () => {
      const error = new ProviderError('network', 'terminated');
      await metrics
        .observeProviderCall('turbotext', aborted('timeout'), Promise.reject(error))
        .catch(() => null);
      expect(
        await value(registry, 'photochanger_provider_errors_total', {
          provider: 'turbotext',
          reason: 'timeout',
        }),
      ).toBe(1);
    });

    it('does not count a cancel as a provider error, but still times it', async () => {
      await metrics
        .observeProviderCall('gemini', aborted('cancelled'), Promise.reject(new Error('x')))
        .catch(() => null);
      const errors = await registry.getSingleMetric('photochanger_provider_errors_total')!.get();
      expect(errors.values).toEqual([]);
      expect(
        await value(registry, 'photochanger_provider_duration_seconds_count', {
          provider: 'gemini',
          outcome: 'cancelled',
        }),
      ).toBe(1);
    });
  });

  it('counts jobs in flight, ending each one once', async () => {
    const first = metrics.jobStarted();
    const second = metrics.jobStarted();
    expect(await value(registry, 'photochanger_jobs_in_flight')).toBe(2);
    first();
    first();
    expect(await value(registry, 'photochanger_jobs_in_flight')).toBe(1);
    second();
    expect(await value(registry, 'photochanger_jobs_in_flight')).toBe(0);
  });

  it('reads the free space under MEDIA_ROOT at scrape time, beside the threshold', async () => {
    expect(await value(registry, 'photochanger_media_free_bytes')).toBeGreaterThan(0);
    expect(await value(registry, 'photochanger_media_min_free_bytes')).toBe(500 * 1024 * 1024);
    // A fresh install has no MEDIA_ROOT yet: the file system it will live on is measured.
    const fresh = new Registry();
    new MetricsService(fresh, { mediaRoot: `${tmpdir()}/not/created/yet`, minFreeDiskMb: 1 });
    expect(await value(fresh, 'photochanger_media_free_bytes')).toBeGreaterThan(0);
  });

  it('keeps metrics per registry, so several apps can live in one process', () => {
    const other = new MetricsService(new Registry(), CONFIG);
    expect(other).not.toBe(metrics);
    expect(() => new MetricsService(registry, CONFIG)).toThrow(/already been registered/);
  });
});
