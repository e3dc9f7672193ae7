// SPEC §6 `GET /metrics`: Prometheus text with the photochanger_* metrics moved by real ingests
// (FakeGemini at the edge), bounded labels, one registry per app, and METRICS_TOKEN closing it.
import { GeminiReply } from './fakes/fake-gemini';
import { boothPost, BoothUpload, dslrFields } from './support/booth';
import { jpeg } from './support/images';
import {
  GEMINI_KEY,
  INGEST_PASSWORD,
  IngestEnv,
  saveSlot,
  startIngestApp,
  stopIngestApp,
} from './support/ingest-setup';
import { TestApp } from './support/test-app';
import { MetricsService } from '../src/metrics/metrics.service';

const MB = 1024 * 1024;

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a text exposition (format 0.0.4); comments and blank lines skipped. */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/.exec(line);
    if (!match) throw new Error(`unparsable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1]] = pair[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

class Scrape {
  constructor(readonly samples: Sample[]) {}

  /** The value of the sample with exactly these labels; 0 when the series does not exist yet. */
  value(name: string, labels: Record<string, string> = {}): number {
    const wanted = JSON.stringify(Object.entries(labels).sort());
    const sample = this.samples.find(
      (s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === wanted,
    );
    return sample?.value ?? 0;
  }

  /** Every label set a metric has samples for. */
  series(name: string): Array<Record<string, string>> {
    return this.samples.filter((s) => s.name === name).map((s) => s.labels);
  }
}

async function scrape(app: TestApp, token?: string): Promise<Scrape> {
  const response = await app.request<string>('GET', '/metrics', {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  if (response.status !== 200) throw new Error(`GET /metrics: ${response.status}`);
  return new Scrape(parseExposition(response.body));
}

describe('GET /metrics (SPEC §6)', () => {
  let env: IngestEnv;
  let app: TestApp;
  let photo: Buffer;

  const booth = (fields: Record<string, string> = {}): BoothUpload => ({
    fields: { ...dslrFields(), password: INGEST_PASSWORD, ...fields },
    file: { bytes: photo },
  });
  const ingest = (slotId: string, upload: BoothUpload, options = {}) =>
    boothPost(`${app.url}/ingest/${slotId}`, upload, options);

  beforeAll(async () => {
    env = await startIngestApp();
    app = env.app;
    photo = await jpeg(640, 480);
    await saveSlot(app, env.token, 'slot-001');
  });

  afterAll(() => stopIngestApp(env));

  beforeEach(() => env.gemini.reset());

  it('is public, Prometheus text, with the Node process metrics', async () => {
    const response = await app.request<string>('GET', '/metrics');

    expect(response.status).toBe(200);
    const contentType = response.headers.get('content-type');
    expect(contentType).toMatch(/^text\/plain;/);
    expect(contentType).toMatch(/version=0\.0\.4/);
    expect(response.body).toMatch(/^# HELP photochanger_ingest_requests_total /m);
    expect(response.body).toMatch(/^# TYPE photochanger_ingest_duration_seconds histogram$/m);
    const samples = new Scrape(parseExposition(response.body));
    expect(samples.series('process_cpu_user_seconds_total')).toHaveLength(1);
    expect(samples.series('nodejs_heap_size_used_bytes')).toHaveLength(1);
    expect(samples.value('photochanger_jobs_in_flight')).toBe(0);
    // The disk alert's inputs, without a node exporter.
    expect(samples.value('photochanger_media_free_bytes')).toBeGreaterThan(0);
    expect(samples.value('photochanger_media_min_free_bytes')).toBe(500 * MB);
  });

  it('counts a success, with the ingest and provider histograms', async () => {
    const before = await scrape(app);
    const answer = await ingest('slot-001', booth());
    expect(answer.status).toBe(200);

    const after = await scrape(app);
    const delta = (name: string, labels: Record<string, string>) =>
      after.value(name, labels) - before.value(name, labels);
    expect(
      delta('photochanger_ingest_requests_total', {
        slot: 'slot-001',
        status: '200',
        failure_reason: 'none',
      }),
    ).toBe(1);
    const ingestSeries = { slot: 'slot-001', outcome: 'completed' };
    expect(delta('photochanger_ingest_duration_seconds_count', ingestSeries)).toBe(1);
    expect(delta('photochanger_ingest_duration_seconds_sum', ingestSeries)).toBeGreaterThan(0);
    // The buckets resolve the 1–60 s a booth waits.
    const buckets = after
      .series('photochanger_ingest_duration_seconds_bucket')
      .filter((labels) => labels.slot === 'slot-001' && labels.outcome === 'completed')
      .map((labels) => labels.le);
    expect(buckets).toEqual(
      expect.arrayContaining(['1', '2', '5', '10', '15', '20', '30', '48', '60', '+Inf']),
    );
    expect(
      delta('photochanger_provider_duration_seconds_count', {
        provider: 'gemini',
        outcome: 'success',
      }),
    ).toBe(1);
    expect(after.value('photochanger_jobs_in_flight')).toBe(0);
  });

  it('counts a wrong password as 401 invalid_password, with no duration (no job)', async () => {
    const before = await scrape(app);
    const answer = await ingest('slot-001', booth({ password: 'not-the-booth-password' }));
    expect(answer.status).toBe(401);

    const after = await scrape(app);
    const labels = { slot: 'slot-001', status: '401', failure_reason: 'invalid_password' };
    expect(after.value('photochanger_ingest_requests_total', labels)).toBe(
      before.value('photochanger_ingest_requests_total', labels) + 1,
    );
    expect(
      after.series('photochanger_ingest_duration_seconds_count').map((l) => l.outcome),
    ).not.toContain('invalid_password');
  });

  it('counts refusals of the 100-continue hook, with unknown slot ids collapsed to "unknown"', async () => {
    const before = await scrape(app);
    for (const slotId of ['slot-016', 'not-a-slot', '..%2F..%2Fetc']) {
      const answer = await ingest(slotId, booth());
      expect(answer).toMatchObject({ status: 404, refusedBeforeBody: true });
    }
    const tooLarge = await ingest('slot-001', booth(), { contentLength: 40 * MB });
    expect(tooLarge).toMatchObject({ status: 413, refusedBeforeBody: true });

    const after = await scrape(app);
    const notFound = { slot: 'unknown', status: '404', failure_reason: 'slot_not_found' };
    expect(
      after.value('photochanger_ingest_requests_total', notFound) -
        before.value('photochanger_ingest_requests_total', notFound),
    ).toBe(3);
    const large = { slot: 'slot-001', status: '413', failure_reason: 'payload_too_large' };
    expect(
      after.value('photochanger_ingest_requests_total', large) -
        before.value('photochanger_ingest_requests_total', large),
    ).toBe(1);
    const slots = new Set(after.series('photochanger_ingest_requests_total').map((l) => l.slot));
    expect([...slots].sort()).toEqual(['slot-001', 'unknown']);
  });

  it('counts a provider 503: the answer, each failed attempt and its duration', async () => {
    env.gemini.respondWith(GeminiReply.unavailable());
    const before = await scrape(app);
    const answer = await ingest('slot-001', booth());
    expect(answer.status).toBe(503);
    expect(answer.json).toMatchObject({ failure_reason: 'provider_unavailable' });
    // The primary call and one retry (SPEC §4).
    expect(env.gemini.requests).toHaveLength(2);

    const after = await scrape(app);
    const delta = (name: string, labels: Record<string, string>) =>
      after.value(name, labels) - before.value(name, labels);
    expect(
      delta('photochanger_ingest_requests_total', {
        slot: 'slot-001',
        status: '503',
        failure_reason: 'provider_unavailable',
      }),
    ).toBe(1);
    expect(
      delta('photochanger_ingest_duration_seconds_count', {
        slot: 'slot-001',
        outcome: 'provider_unavailable',
      }),
    ).toBe(1);
    expect(
      delta('photochanger_provider_errors_total', {
        provider: 'gemini',
        reason: 'provider_unavailable',
      }),
    ).toBe(2);
    expect(
      delta('photochanger_provider_duration_seconds_count', {
        provider: 'gemini',
        outcome: 'provider_unavailable',
      }),
    ).toBe(2);
    expect(after.value('photochanger_ingest_timeouts_total', { slot: 'slot-001' })).toBe(0);
    expect(after.value('photochanger_jobs_in_flight')).toBe(0);
  });

  it('leaves test-runs out of the booth counters but times their provider call', async () => {
    const before = await scrape(app);
    const answer = await boothPost(
      `${app.url}/api/slots/slot-001/test-run`,
      { file: { field: 'test_image', bytes: photo } },
      { headers: { authorization: `Bearer ${env.token}` } },
    );
    expect(answer.status).toBe(200);

    const after = await scrape(app);
    const total = (scraped: Scrape) =>
      scraped.samples
        .filter((s) => s.name === 'photochanger_ingest_requests_total')
        .reduce((sum, s) => sum + s.value, 0);
    expect(total(after)).toBe(total(before));
    const success = { provider: 'gemini', outcome: 'success' };
    expect(after.value('photochanger_provider_duration_seconds_count', success)).toBe(
      before.value('photochanger_provider_duration_seconds_count', success) + 1,
    );
  });

  it('counts refused admin logins', async () => {
    const before = await scrape(app);
    const refused = await app.request('POST', '/api/login', {
      json: { username: 'serg', password: 'wrong-password-1' },
    });
    expect(refused.status).toBe(401);
    await app.login();

    const after = await scrape(app);
    expect(after.value('photochanger_login_failures_total')).toBe(
      before.value('photochanger_login_failures_total') + 1,
    );
  });

  it('exposes what cleanup and storage code report through MetricsService', async () => {
    const metrics = app.app.get(MetricsService);
    metrics.cleanupDeleted('results', 3, 3_000);
    metrics.cleanupDeleted('results', 1, 500);
    metrics.cleanupDeleted('provider_media', 2, 800);
    metrics.setMediaBytes('templates', 12_345);
    metrics.setMediaBytes('templates', 10_000);

    const after = await scrape(app);
    expect(after.value('photochanger_cleanup_deleted_files_total', { kind: 'results' })).toBe(4);
    expect(after.value('photochanger_cleanup_deleted_bytes_total', { kind: 'results' })).toBe(
      3_500,
    );
    expect(
      after.value('photochanger_cleanup_deleted_files_total', { kind: 'provider_media' }),
    ).toBe(2);
    expect(after.value('photochanger_media_bytes', { kind: 'templates' })).toBe(10_000);
  });

  describe('with METRICS_TOKEN set', () => {
    const METRICS_TOKEN = 'metrics-scrape-token-5fQ2';
    let closed: TestApp;

    beforeAll(async () => {
      closed = await TestApp.start({ env: { METRICS_TOKEN, GEMINI_API_KEY: GEMINI_KEY } });
    });

    afterAll(() => closed?.close());

    it('answers 401 JSON without the token, or with another one (an admin JWT included)', async () => {
      const adminToken = await closed.login();
      for (const headers of [
        {},
        { authorization: 'Bearer wrong-token' },
        { authorization: `Bearer ${adminToken}` },
        { authorization: METRICS_TOKEN },
      ] as Array<Record<string, string>>) {
        const response = await closed.request('GET', '/metrics', { headers });
        expect(response.status).toBe(401);
        expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
        expect(response.body).toEqual({
          status: 'error',
          failure_reason: 'unauthorized',
          message: expect.stringMatching(/METRICS_TOKEN/),
        });
      }
    });

    it('answers 200 with the token, and never logs it', async () => {
      const scraped = await scrape(closed, METRICS_TOKEN);
      expect(scraped.series('process_cpu_user_seconds_total')).toHaveLength(1);
      expect(closed.rawLogs.join('\n')).not.toContain(METRICS_TOKEN);
    });

    it('keeps its own registry: the other app’s ingests are not counted here', async () => {
      const scraped = await scrape(closed, METRICS_TOKEN);
      expect(scraped.series('photochanger_ingest_requests_total')).toEqual([]);
      expect((await scrape(app)).series('photochanger_ingest_requests_total')).not.toEqual([]);
    });

    it('leaves the health routes public', async () => {
      expect((await closed.request('GET', '/healthz/live')).status).toBe(200);
    });
  });
});
