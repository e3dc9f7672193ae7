import { randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readlinkSync, rmSync, truncateSync } from 'node:fs';
import { get } from 'node:http';
import * as path from 'node:path';
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
  waitFor,
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

  describe('a result of many read chunks', () => {
    let big: Buffer;
    /** Larger than what the loopback's socket buffers absorb: writes wait for the guest. */
    let huge: Buffer;

    /** Noise does not compress: JPEGs of a few MB from a few pixels. */
    function noise(width: number, height: number): Promise<Buffer> {
      return sharp(randomBytes(width * height * 3), { raw: { width, height, channels: 3 } })
        .jpeg({ quality: 95, chromaSubsampling: '4:4:4' })
        .toBuffer();
    }

    beforeAll(async () => {
      big = await noise(900, 700);
      expect(big.length).toBeGreaterThan(1024 * 1024);
      expect(big.length % (256 * 1024)).not.toBe(0);
      huge = await noise(3000, 2000);
      expect(huge.length).toBeGreaterThan(10 * 1024 * 1024);
    });

    beforeEach(() => {
      gemini.reset().respondWith(GeminiReply.image(big, 'image/jpeg'));
    });

    /** Descriptors of this process open on `file`: the app runs in it. */
    function openDescriptors(file: string): number {
      let count = 0;
      for (const fd of readdirSync('/proc/self/fd')) {
        try {
          if (readlinkSync(`/proc/self/fd/${fd}`) === file) count++;
        } catch {
          // closed while listed
        }
      }
      return count;
    }

    /** The server closes a file just after its last bytes reach the socket. */
    async function closedFile(jobId: string): Promise<void> {
      const file = path.join(resultFolder(app, 'slot-001', jobId), 'payload.jpg');
      await waitFor(
        () => Promise.resolve(openDescriptors(file) === 0 ? true : undefined),
        `the server to close ${file}`,
      );
    }

    it('serves it byte for byte, to many guests at once, and closes the file', async () => {
      const { jobId, bytes } = await succeed();
      expect(bytes.equals(big)).toBe(true);

      const downloads = await Promise.all(
        Array.from({ length: 12 }, async () => {
          const response = await fetch(`${app.url}/public/results/${jobId}`);
          return {
            status: response.status,
            length: response.headers.get('content-length'),
            body: Buffer.from(await response.arrayBuffer()),
          };
        }),
      );
      for (const download of downloads) {
        expect(download.status).toBe(200);
        expect(download.length).toBe(String(big.length));
        expect(download.body.equals(big)).toBe(true);
      }
      await closedFile(jobId);
    });

    it('answers HEAD with the headers of the file and no body', async () => {
      const { jobId } = await succeed();
      const response = await fetch(`${app.url}/public/results/${jobId}`, { method: 'HEAD' });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-length')).toBe(String(big.length));
      expect(response.headers.get('content-type')).toBe('image/jpeg');
      expect((await response.arrayBuffer()).byteLength).toBe(0);
      await closedFile(jobId);
    });

    it('closes the file when a guest leaves mid-download, and serves the next one whole', async () => {
      gemini.reset().respondWith(GeminiReply.image(huge, 'image/jpeg'));
      const { jobId } = await succeed();
      const { host } = new URL(app.url);
      const [hostname, port] = host.split(':');
      // The guest reads one chunk, then stops reading (the server's writes back up) and leaves.
      await new Promise<void>((resolve, reject) => {
        const request = get(
          { host: hostname, port: Number(port), path: `/public/results/${jobId}` },
          (response) => {
            response.once('data', () => {
              response.pause();
              setTimeout(() => {
                request.destroy();
                resolve();
              }, 200);
            });
          },
        );
        request.on('error', (error: NodeJS.ErrnoException) => {
          if (error.code !== 'ECONNRESET') reject(error);
        });
      });
      await closedFile(jobId);

      const next = await fetch(`${app.url}/public/results/${jobId}`);
      expect(next.status).toBe(200);
      expect(Buffer.from(await next.arrayBuffer()).equals(huge)).toBe(true);
    });

    it('cuts the download short, never passing it off as whole, when the file shrinks', async () => {
      gemini.reset().respondWith(GeminiReply.image(huge, 'image/jpeg'));
      const { jobId } = await succeed();
      const file = path.join(resultFolder(app, 'slot-001', jobId), 'payload.jpg');
      const response = await fetch(`${app.url}/public/results/${jobId}`);
      expect(response.headers.get('content-length')).toBe(String(huge.length));
      const reader = response.body!.getReader();
      await reader.read();
      truncateSync(file, 1024 * 1024);
      const cutAt = Date.now();
      let received = 0;
      const ended = (async () => {
        for (let next = await reader.read(); !next.done; next = await reader.read()) {
          received += next.value.length;
        }
      })();

      await expect(ended).rejects.toThrow();
      expect(received).toBeLessThan(huge.length);
      // At once, not when an idle connection times out (5 s): the guest's browser says so.
      expect(Date.now() - cutAt).toBeLessThan(3_000);
      await closedFile(jobId);
    });

    it('finishes a download already under way when the result is deleted meanwhile', async () => {
      const { jobId } = await succeed();
      const response = await fetch(`${app.url}/public/results/${jobId}`);
      expect(response.status).toBe(200);
      const reader = response.body!.getReader();
      const first = await reader.read();
      rmSync(resultFolder(app, 'slot-001', jobId), { recursive: true });
      const chunks = [Buffer.from(first.value ?? [])];
      for (let next = await reader.read(); !next.done; next = await reader.read()) {
        chunks.push(Buffer.from(next.value));
      }
      expect(Buffer.concat(chunks).equals(big)).toBe(true);
      expect((await app.request('GET', `/public/results/${jobId}`)).status).toBe(410);
    });
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
