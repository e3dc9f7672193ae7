import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { get } from 'node:http';
import sharp from 'sharp';
import { FakeGemini, GeminiReply } from './fakes/fake-gemini';
import { jpeg, png } from './support/images';
import {
  configureGeminiSlot,
  configureIngest,
  jobRow,
  resultFolder,
  shoot,
  updateSettings,
} from './support/ingest-harness';
import { TestApp } from './support/test-app';

const HOUR_MS = 3_600_000;
const SECOND_MS = 1_000;

/** A GET with the path exactly as written: fetch would resolve `..` segments itself. */
function rawGet(url: string, rawPath: string): Promise<{ status: number; body: string }> {
  const { host } = new URL(url);
  return new Promise((resolve, reject) => {
    get({ host: host.split(':')[0], port: Number(host.split(':')[1]), path: rawPath }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
    }).on('error', reject);
  });
}

describe('public results and their TTL', () => {
  let gemini: FakeGemini;
  let app: TestApp;
  let token: string;
  let photo: Buffer;

  beforeAll(async () => {
    gemini = await FakeGemini.start();
    // A FakeClock that only moves when told: the TTL is crossed without waiting.
    app = await TestApp.start({
      env: { GEMINI_BASE_URL: gemini.baseUrl, GEMINI_API_KEY: 'results-suite-gemini-key' },
    });
    token = await configureIngest(app);
    await configureGeminiSlot(app, token, 'slot-001');
    photo = await jpeg(800, 600);
  });

  beforeEach(async () => {
    gemini.reset().respondWith(GeminiReply.image(await png(240, 180)));
  });

  afterAll(async () => {
    await app?.close();
    await gemini?.close();
  });

  async function succeed(): Promise<{ jobId: string; bytes: Buffer; resultUrl: string }> {
    const response = await shoot(app, 'slot-001', photo);
    expect(response.status).toBe(200);
    return {
      jobId: String(response.headers['x-job-id']),
      bytes: response.body,
      resultUrl: String(response.headers['x-result-url']),
    };
  }

  it('serves a completed result and its preview at the public link', async () => {
    const { jobId, bytes, resultUrl } = await succeed();
    expect(resultUrl).toBe(`${app.config.publicBaseUrl}/public/results/${jobId}`);

    const download = await fetch(`${app.url}/public/results/${jobId}`);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('image/jpeg');
    expect(download.headers.get('content-disposition')).toMatch(/^attachment; filename="[^"/]+"$/);
    expect(Buffer.from(await download.arrayBuffer()).equals(bytes)).toBe(true);

    const preview = await fetch(`${app.url}/public/results/${jobId}/preview`);
    expect(preview.status).toBe(200);
    expect(preview.headers.get('content-type')).toBe('image/webp');
    const meta = await sharp(Buffer.from(await preview.arrayBuffer())).metadata();
    expect(meta.format).toBe('webp');
    expect(Math.max(meta.width ?? 0, meta.height ?? 0)).toBeLessThanOrEqual(512);

    const status = await app.request('GET', `/api/jobs/${jobId}`);
    const row = await jobRow(app, jobId);
    expect(status.body).toEqual({
      job_id: jobId,
      slot_id: 'slot-001',
      status: 'completed',
      failure_reason: null,
      started_at: row.started_at.toISOString(),
      finished_at: row.finished_at!.toISOString(),
      duration_ms: row.duration_ms,
      result_url: resultUrl,
      result_expires_at: new Date(row.finished_at!.getTime() + 72 * HOUR_MS).toISOString(),
    });
  });

  it('answers 410 result_expired once 72 h have passed, for the file and its preview', async () => {
    const { jobId } = await succeed();

    app.clock.advance(72 * HOUR_MS - SECOND_MS);
    expect((await fetch(`${app.url}/public/results/${jobId}`)).status).toBe(200);

    app.clock.advance(2 * SECOND_MS);
    for (const route of [`/public/results/${jobId}`, `/public/results/${jobId}/preview`]) {
      const expired = await app.request('GET', route);
      expect({ route, status: expired.status, body: expired.body }).toEqual({
        route,
        status: 410,
        body: expect.objectContaining({ status: 'error', failure_reason: 'result_expired' }),
      });
    }
    const status = await app.request('GET', `/api/jobs/${jobId}`);
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({
      status: 'completed',
      result_url: null,
      result_expires_at: expect.any(String),
    });
  });

  it('answers 410 when a kept result has lost its files on disk, never a 500', async () => {
    const { jobId } = await succeed();
    // Downloaded once first: a result read lately must not be served from memory once its
    // files are gone (deleted by another instance, a purge or the cleanup).
    expect((await fetch(`${app.url}/public/results/${jobId}`)).status).toBe(200);
    rmSync(resultFolder(app, 'slot-001', jobId), { recursive: true });
    for (const route of [`/public/results/${jobId}`, `/public/results/${jobId}/preview`]) {
      const response = await app.request('GET', route);
      expect({ route, status: response.status, body: response.body }).toEqual({
        route,
        status: 410,
        body: expect.objectContaining({ failure_reason: 'result_expired', job_id: jobId }),
      });
    }
  });

  it('follows the result_ttl_hours setting', async () => {
    // Earlier tests moved the clock past the admin token's lifetime.
    token = await app.login();
    await updateSettings(app, token, { result_ttl_hours: 1 });
    try {
      const { jobId } = await succeed();
      const status = await app.request('GET', `/api/jobs/${jobId}`);
      expect(Date.parse(status.body.result_expires_at) - Date.parse(status.body.finished_at)).toBe(
        HOUR_MS,
      );

      app.clock.advance(HOUR_MS - SECOND_MS);
      expect((await app.request('GET', `/public/results/${jobId}`)).status).toBe(200);
      app.clock.advance(2 * SECOND_MS);
      expect((await app.request('GET', `/public/results/${jobId}`)).status).toBe(410);
    } finally {
      await updateSettings(app, await app.login(), { result_ttl_hours: 72 });
    }
  });

  it('answers 404 result_not_found for unknown ids, path tricks and jobs without a result', async () => {
    gemini.reset().respondWith(GeminiReply.error(400, 'INVALID_ARGUMENT', 'Bad request.'));
    const failed = await shoot(app, 'slot-001', photo);
    expect(failed.status).toBe(502);
    const failedId: string = failed.json.job_id;

    for (const id of [randomUUID(), 'not-a-job', '..%2F..%2Fsecrets%2Fjwt_signing_key', failedId]) {
      for (const suffix of ['', '/preview']) {
        const response = await app.request('GET', `/public/results/${id}${suffix}`);
        expect({ id, suffix, status: response.status, body: response.body }).toEqual({
          id,
          suffix,
          status: 404,
          body: expect.objectContaining({ status: 'error', failure_reason: 'result_not_found' }),
        });
      }
    }

    gemini.reset().respondWith(GeminiReply.image(await png(240, 180)));
    const { jobId } = await succeed();
    for (const rawPath of [
      `/public/results/../../secrets/jwt_signing_key`,
      `/public/results/${jobId}/../../../secrets/jwt_signing_key`,
      `/public/results/%2e%2e%2f%2e%2e%2fsecrets%2fjwt_signing_key`,
    ]) {
      const response = await rawGet(app.url, rawPath);
      expect({ rawPath, status: response.status }).toEqual({ rawPath, status: 404 });
      expect(JSON.parse(response.body)).toMatchObject({ status: 'error' });
    }
  });
});
