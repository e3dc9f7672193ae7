// The booth's ingest link end to end (SPEC §4, §6): the request forms it accepts, the answer and
// what is kept of it, what the provider is sent, and the admin's test-run.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import sharp from 'sharp';
import { FACE_PRESERVING_INSTRUCTION } from '../src/providers/gemini/gemini-protocol';
import { GeminiReply } from './fakes/fake-gemini';
import { BoothResponse, BoothUpload, boothPost, dslrFields } from './support/booth';
import { BACKGROUND, closeTo, jpeg, MARKER, pixelAt, png, textBytes, webp } from './support/images';
import {
  GEMINI_KEY,
  INGEST_PASSWORD,
  IngestEnv,
  jobCount,
  jobRow,
  saveSettings,
  saveSlot,
  startIngestApp,
  stopIngestApp,
} from './support/ingest-setup';
import type { TestApp } from './support/test-app';

const BASE = 'https://booth.example.com';
const HOUR = 3_600_000;
const PROMPT = 'Put them on a sunny beach';
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
const sha1 = (bytes: Buffer): string => createHash('sha1').update(bytes).digest('hex');

/**
 * A camera-like JPEG: `jpeg()`'s layout (red top-left quadrant on blue) with a little sensor noise,
 * so it compresses like a photo rather than like two flat colours, plus camera EXIF and an
 * Orientation tag.
 */
async function cameraJpeg(width: number, height: number, orientation: number): Promise<Buffer> {
  const raw = { width, height, channels: 3 } as const;
  const layout = await sharp(await jpeg(width, height, { quality: 100 }))
    .raw()
    .toBuffer();
  const noise = await sharp(randomBytes(width * height * 3), { raw })
    .linear(6 / 255, 0)
    .raw()
    .toBuffer();
  return sharp(layout, { raw })
    .composite([{ input: noise, raw, blend: 'add' }])
    .jpeg({ quality: 92 })
    .withExif({
      IFD0: { Make: 'Canon', Model: 'EOS 5D Mark IV' },
      IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '55/1 45/1 21/1' },
    })
    .withMetadata({ orientation })
    .toBuffer();
}

async function size(image: Buffer): Promise<{ width: number; height: number; format: string }> {
  const meta = await sharp(image).metadata();
  return { width: meta.width, height: meta.height, format: meta.format };
}

/** GET on the app for a public link built on PUBLIC_MEDIA_BASE_URL, keeping the bytes. */
async function download(app: TestApp, publicUrl: string) {
  const url = new URL(publicUrl);
  const response = await fetch(`${app.url}${url.pathname}`);
  return {
    status: response.status,
    headers: response.headers,
    body: Buffer.from(await response.arrayBuffer()),
  };
}

describe('ingest', () => {
  let env: IngestEnv;
  let app: TestApp;
  let token: string;

  const booth = (fields: Record<string, string> = {}): Record<string, string> => ({
    ...dslrFields(),
    password: INGEST_PASSWORD,
    ...fields,
  });
  const post = (
    upload: BoothUpload,
    route = '/ingest/slot-001',
    options: Parameters<typeof boothPost>[2] = {},
  ): Promise<BoothResponse> => boothPost(`${app.url}${route}`, upload, options);
  const ok = async (response: Promise<BoothResponse> | BoothResponse): Promise<BoothResponse> => {
    const answer = await response;
    if (answer.status !== 200) {
      throw new Error(`expected 200, got ${answer.status} ${JSON.stringify(answer.json)}`);
    }
    return answer;
  };
  const jobId = (answer: BoothResponse): string => String(answer.headers['x-job-id']);

  beforeAll(async () => {
    env = await startIngestApp({ env: { PUBLIC_MEDIA_BASE_URL: BASE } });
    app = env.app;
    token = env.token;
    await saveSlot(app, token, 'slot-001', { settings: { prompt: PROMPT } });
  });

  afterAll(() => stopIngestApp(env));

  beforeEach(() => env.gemini.reset());

  describe('the request', () => {
    it.each(['/ingest/slot-001', '/api/ingest/slot-001'])('is taken at %s', async (route) => {
      const answer = await ok(
        post({ fields: booth(), file: { bytes: await jpeg(400, 300) } }, route),
      );
      const row = await jobRow(app, jobId(answer));
      expect(row).toMatchObject({ slot_id: 'slot-001', source: 'ingest', status: 'completed' });
      expect(env.gemini.requests).toHaveLength(1);
    });

    it('is taken without Expect: 100-continue too', async () => {
      const photo = await jpeg(400, 300);
      await ok(
        post({ fields: booth(), file: { bytes: photo } }, undefined, { expectContinue: false }),
      );
    });

    it('accepts the photo under the `file` alias', async () => {
      const photo = await jpeg(400, 300);
      const answer = await ok(post({ fields: booth(), file: { field: 'file', bytes: photo } }));
      expect((await jobRow(app, jobId(answer))).input_sha256).toBe(sha256(photo));
    });

    it('prefers fileToUpload when both parts are sent', async () => {
      const photo = await jpeg(400, 300);
      const boundary = 'xYzZY';
      const part = (name: string, bytes: Buffer) => [
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="IMG.JPG"\r\n` +
            'Content-Type: image/jpeg\r\n\r\n',
        ),
        bytes,
        Buffer.from('\r\n'),
      ];
      const body = Buffer.concat([
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="password"\r\n\r\n${INGEST_PASSWORD}\r\n`,
        ),
        ...part('file', textBytes()),
        ...part('fileToUpload', photo),
        Buffer.from(`--${boundary}--\r\n`),
      ]);
      const response = await app.request('POST', '/ingest/slot-001', {
        body,
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      });
      expect(response.status).toBe(200);
      const row = await jobRow(app, String(response.headers.get('x-job-id')));
      expect(row.input_sha256).toBe(sha256(photo));
    });

    it('decides the type by the bytes, not by the name or the declared Content-Type', async () => {
      const photo = await png(400, 300);
      const answer = await ok(
        post({
          fields: booth(),
          file: { name: 'IMG_0007.JPG', contentType: 'image/jpeg', bytes: photo },
        }),
      );
      expect(answer.headers['content-type']).toBe('image/png');
      expect((await jobRow(app, jobId(answer))).input_mime_type).toBe('image/png');
      expect(env.gemini.requests[0].photo?.mimeType).toBe('image/png');
    });

    it('stores every text field in client_fields, never the password (row and logs)', async () => {
      const password = `booth-${randomBytes(8).toString('hex')}`;
      await saveSettings(app, token, { ingest_password: password });
      try {
        const fields = { ...dslrFields(), hash: 'abc123', booth_note: 'Свадьба, зал 2', x: '' };
        const answer = await ok(
          post({ fields: { ...fields, password }, file: { bytes: await jpeg(400, 300) } }),
        );
        const row = await jobRow(app, jobId(answer));
        expect(row.client_fields).toEqual(fields);
        expect(JSON.stringify(row)).not.toContain(password);
        expect(app.rawLogs.join('\n')).not.toContain(password);
      } finally {
        await saveSettings(app, token, { ingest_password: INGEST_PASSWORD });
      }
    });

    it('keeps `hash` as client_hash, verified when it is the SHA-1 of the photo', async () => {
      const photo = await jpeg(400, 300);
      const verified = await ok(
        post({ fields: booth({ hash: sha1(photo) }), file: { bytes: photo } }),
      );
      expect(await jobRow(app, jobId(verified))).toMatchObject({
        client_hash: sha1(photo),
        hash_verified: true,
      });
    });

    it('accepts a `hash` that is not the SHA-1, recording hash_verified false', async () => {
      const photo = await jpeg(400, 300);
      for (const hash of [sha256(photo), 'd41d8cd98f00b204e9800998ecf8427e', 'not-a-hash']) {
        const answer = await ok(post({ fields: booth({ hash }), file: { bytes: photo } }));
        expect(await jobRow(app, jobId(answer))).toMatchObject({
          client_hash: hash,
          hash_verified: false,
        });
      }
    });

    it('records no client_hash when the booth sends none', async () => {
      const answer = await ok(post({ fields: booth(), file: { bytes: await jpeg(400, 300) } }));
      expect(await jobRow(app, jobId(answer))).toMatchObject({
        client_hash: null,
        hash_verified: false,
      });
    });
  });

  describe('the answer', () => {
    it('is the edited photo with the contract headers', async () => {
      const photo = await jpeg(1200, 800);
      const answer = await ok(post({ fields: booth(), file: { bytes: photo } }));

      const id = jobId(answer);
      expect(id).toMatch(UUID_V4);
      expect(answer.headers['content-type']).toBe('image/jpeg');
      expect(answer.headers['content-length']).toBe(String(answer.body.length));
      expect(answer.headers['cache-control']).toBe('no-store');
      expect(answer.headers['x-result-url']).toBe(`${BASE}/public/results/${id}`);
      expect(answer.headers['x-deduplicated']).toBeUndefined();
      // The fake answers the photo it was sent: a JPEG already in the booth's format passes through.
      expect(answer.body.equals(env.gemini.requests[0].photo!.bytes)).toBe(true);
      expect(await size(answer.body)).toEqual({ width: 1200, height: 800, format: 'jpeg' });
    });

    it('is kept behind X-Result-Url (as an attachment) with a WEBP preview of at most 512 px', async () => {
      const answer = await ok(post({ fields: booth(), file: { bytes: await jpeg(1200, 800) } }));
      const link = String(answer.headers['x-result-url']);

      const result = await download(app, link);
      expect(result.status).toBe(200);
      expect(result.headers.get('content-type')).toBe('image/jpeg');
      expect(result.headers.get('content-disposition')).toMatch(/^attachment/);
      expect(result.body.equals(answer.body)).toBe(true);

      const preview = await download(app, `${link}/preview`);
      expect(preview.status).toBe(200);
      expect(preview.headers.get('content-type')).toBe('image/webp');
      const previewSize = await size(preview.body);
      expect(previewSize.format).toBe('webp');
      expect(Math.max(previewSize.width, previewSize.height)).toBeLessThanOrEqual(512);
      expect(previewSize.width / previewSize.height).toBeCloseTo(1.5, 1);
    });

    it('leaves a completed job row and the files under MEDIA_ROOT/results', async () => {
      const photo = await jpeg(1200, 800);
      const answer = await ok(post({ fields: booth(), file: { bytes: photo } }));
      const id = jobId(answer);
      const row = await jobRow(app, id);

      expect(row).toMatchObject({
        id,
        slot_id: 'slot-001',
        source: 'ingest',
        status: 'completed',
        failure_reason: null,
        provider: 'gemini',
        operation: 'image_edit',
        model: 'gemini-3.1-flash-image',
        input_sha256: sha256(photo),
        input_size_bytes: String(photo.length),
        input_mime_type: 'image/jpeg',
        result_path: `results/slot-001/${id}/payload.jpg`,
        result_mime_type: 'image/jpeg',
        result_size_bytes: String(answer.body.length),
        result_checksum: sha256(answer.body),
        result_width: 1200,
        result_height: 800,
        result_deleted_at: null,
      });
      expect(row.usage).toMatchObject({ totalTokenCount: expect.any(Number) });
      expect(row.deadline_at.getTime() - row.started_at.getTime()).toBe(48_000);
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.result_expires_at.getTime() - row.finished_at.getTime()).toBe(72 * HOUR);

      const folder = path.join(app.config.mediaRoot, 'results', 'slot-001', id);
      expect((await readFile(path.join(folder, 'payload.jpg'))).equals(answer.body)).toBe(true);
      expect((await size(await readFile(path.join(folder, 'preview.webp')))).format).toBe('webp');
    });

    it('is described publicly by GET /api/jobs/{id}', async () => {
      const answer = await ok(post({ fields: booth(), file: { bytes: await jpeg(400, 300) } }));
      const id = jobId(answer);
      const row = await jobRow(app, id);

      const response = await app.request('GET', `/api/jobs/${id}`);
      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        job_id: id,
        slot_id: 'slot-001',
        status: 'completed',
        failure_reason: null,
        started_at: row.started_at.toISOString(),
        finished_at: row.finished_at.toISOString(),
        duration_ms: row.duration_ms,
        result_url: `${BASE}/public/results/${id}`,
        result_expires_at: row.result_expires_at.toISOString(),
      });

      const unknown = await app.request(
        'GET',
        `/api/jobs/${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}`,
      );
      expect(unknown.status).toBe(404);
      expect(unknown.body.failure_reason).toBe('job_not_found');
      const odd = await app.request('GET', '/api/jobs/not-a-job-id');
      expect(odd.status).toBe(404);
      expect(odd.body.failure_reason).toBe('job_not_found');
    });

    it('is a PNG for a PNG, keeping its transparency, whatever the provider answers', async () => {
      const photo = await png(400, 300, { alpha: true });
      env.gemini.respondWith(
        GeminiReply.image(await webp(400, 300, { alpha: true }), 'image/webp'),
      );
      const answer = await ok(post({ fields: booth(), file: { name: 'a.png', bytes: photo } }));

      expect(answer.headers['content-type']).toBe('image/png');
      expect((await size(answer.body)).format).toBe('png');
      expect((await pixelAt(answer.body, 50, 50)).alpha).toBe(255);
      const background = await pixelAt(answer.body, 350, 250);
      expect(background.alpha).toBeGreaterThan(100);
      expect(background.alpha).toBeLessThan(160);
      // The provider was sent the transparency too.
      const sent = env.gemini.requests[0].photo!;
      expect(sent.mimeType).toBe('image/png');
      expect((await pixelAt(sent.bytes, 350, 250)).alpha).toBeLessThan(160);
    });

    it('is a WEBP for a WEBP', async () => {
      env.gemini.respondWith(GeminiReply.image(await png(400, 300), 'image/png'));
      const answer = await ok(
        post({ fields: booth(), file: { name: 'a.webp', bytes: await webp(400, 300) } }),
      );
      expect(answer.headers['content-type']).toBe('image/webp');
      expect((await size(answer.body)).format).toBe('webp');
      expect((await jobRow(app, jobId(answer))).result_path).toMatch(/\/payload\.webp$/);
    });

    it('is a JPEG for a JPEG even when the provider answers PNG', async () => {
      env.gemini.respondWith(GeminiReply.image(await png(600, 400), 'image/png'));
      const answer = await ok(post({ fields: booth(), file: { bytes: await jpeg(600, 400) } }));
      expect(answer.headers['content-type']).toBe('image/jpeg');
      expect((await size(answer.body)).format).toBe('jpeg');
    });

    describe('with slot output settings', () => {
      afterAll(() => saveSlot(app, token, 'slot-001', { settings: { prompt: PROMPT } }));

      it.each([
        ['jpeg', 'image/jpeg', 'jpg'],
        ['png', 'image/png', 'png'],
        ['webp', 'image/webp', 'webp'],
      ])('output_format %s overrides the input format', async (format, mime, ext) => {
        await saveSlot(app, token, 'slot-001', {
          settings: { prompt: PROMPT, output_format: format },
        });
        for (const photo of [await jpeg(400, 300), await png(400, 300)]) {
          const answer = await ok(post({ fields: booth(), file: { bytes: photo } }));
          expect(answer.headers['content-type']).toBe(mime);
          expect((await size(answer.body)).format).toBe(ext === 'jpg' ? 'jpeg' : ext);
          const row = await jobRow(app, jobId(answer));
          expect(row.result_path).toBe(`results/slot-001/${jobId(answer)}/payload.${ext}`);
          expect(row.result_mime_type).toBe(mime);
        }
      });

      it('output_format jpeg prints transparency on white, not black', async () => {
        await saveSlot(app, token, 'slot-001', {
          settings: { prompt: PROMPT, output_format: 'jpeg' },
        });
        const photo = await png(400, 300, { alpha: true });
        const answer = await ok(post({ fields: booth(), file: { bytes: photo } }));
        // Half-transparent blue over white paper.
        expect(closeTo(await pixelAt(answer.body, 350, 250), { r: 128, g: 128, b: 255 })).toBe(
          true,
        );
      });

      it.each([
        [1000, 1000, 667],
        [2400, 2400, 1600],
      ])('output_long_edge_px %i resizes the answer', async (edge, width, height) => {
        await saveSlot(app, token, 'slot-001', {
          settings: { prompt: PROMPT, output_long_edge_px: edge },
        });
        const answer = await ok(post({ fields: booth(), file: { bytes: await jpeg(1200, 800) } }));
        expect(await size(answer.body)).toEqual({ width, height, format: 'jpeg' });
        expect(await jobRow(app, jobId(answer))).toMatchObject({
          result_width: width,
          result_height: height,
        });
      });
    });
  });

  describe('what the provider receives', () => {
    it('gets a camera photo upright, at most 2048 px, re-encoded without EXIF, 8× smaller', async () => {
      const photo = await cameraJpeg(6000, 4000, 6);
      expect((await sharp(photo).metadata()).orientation).toBe(6);

      const answer = await ok(post({ fields: booth(), file: { bytes: photo } }));

      expect(env.gemini.requests).toHaveLength(1);
      const sent = env.gemini.requests[0].photo!;
      expect(sent.mimeType).toBe('image/jpeg');
      const meta = await sharp(sent.bytes).metadata();
      // Orientation 6 turns the stored 6000×4000 a quarter: the guest stands 4000 wide, 6000 high.
      expect({ width: meta.width, height: meta.height }).toEqual({ width: 1365, height: 2048 });
      expect(meta.orientation).toBeUndefined();
      expect(meta.exif).toBeUndefined();
      expect(sent.bytes.length).toBeLessThanOrEqual(photo.length / 8);
      // The stored top-left quadrant is the upright top-right one.
      expect(closeTo(await pixelAt(sent.bytes, 1024, 512), MARKER)).toBe(true);
      expect(closeTo(await pixelAt(sent.bytes, 340, 512), BACKGROUND)).toBe(true);
      expect(closeTo(await pixelAt(sent.bytes, 1024, 1536), BACKGROUND)).toBe(true);
      // Portrait photo, no slot ratio: the nearest supported one.
      expect(env.gemini.requests[0].aspectRatio).toBe('2:3');
      // The booth gets it upright too.
      expect(await size(answer.body)).toEqual({ width: 1365, height: 2048, format: 'jpeg' });
    });

    it('gets the slot prompt after the face-preserving instruction, with the key and model', async () => {
      await ok(post({ fields: booth(), file: { bytes: await jpeg(600, 400) } }));
      const request = env.gemini.requests[0];
      expect(FACE_PRESERVING_INSTRUCTION).toMatch(/face/i);
      expect(FACE_PRESERVING_INSTRUCTION).toMatch(/identity/i);
      expect(request.text()).toBe(`${FACE_PRESERVING_INSTRUCTION}\n\n${PROMPT}`);
      expect(request.apiKey).toBe(GEMINI_KEY);
      expect(request.model).toBe('gemini-3.1-flash-image');
      expect(request.images()).toHaveLength(1);
    });

    it('gets a small photo at its own size', async () => {
      await ok(post({ fields: booth(), file: { bytes: await jpeg(640, 480) } }));
      const meta = await sharp(env.gemini.requests[0].photo!.bytes).metadata();
      expect({ width: meta.width, height: meta.height }).toEqual({ width: 640, height: 480 });
    });

    it('follows provider_max_edge_px from the settings', async () => {
      await saveSettings(app, token, { provider_max_edge_px: 1024 });
      try {
        await ok(post({ fields: booth(), file: { bytes: await jpeg(3000, 2000) } }));
      } finally {
        await saveSettings(app, token, { provider_max_edge_px: 2048 });
      }
      const meta = await sharp(env.gemini.requests[0].photo!.bytes).metadata();
      expect({ width: meta.width, height: meta.height }).toEqual({ width: 1024, height: 683 });
    });

    it.each([
      [1920, 1080, '16:9'],
      [1200, 800, '3:2'],
      [800, 800, '1:1'],
      [1024, 768, '4:3'],
    ])(
      'asks for the ratio nearest to a %i×%i photo when the slot sets none',
      async (w, h, ratio) => {
        await ok(post({ fields: booth(), file: { bytes: await jpeg(w, h) } }));
        expect(env.gemini.requests[0].aspectRatio).toBe(ratio);
      },
    );

    describe('with slot settings', () => {
      afterAll(() => saveSlot(app, token, 'slot-001', { settings: { prompt: PROMPT } }));

      it("asks for the slot's aspect ratio and model when set", async () => {
        await saveSlot(app, token, 'slot-001', {
          settings: { prompt: 'Neon city', aspect_ratio: '9:16', model: 'gemini-3-pro-image' },
        });
        await ok(post({ fields: booth(), file: { bytes: await jpeg(1920, 1080) } }));
        const request = env.gemini.requests[0];
        expect(request.aspectRatio).toBe('9:16');
        expect(request.model).toBe('gemini-3-pro-image');
        expect(request.text()).toBe(`${FACE_PRESERVING_INSTRUCTION}\n\nNeon city`);
      });
    });
  });

  describe('test-run', () => {
    beforeAll(async () => {
      await saveSlot(app, token, 'slot-005', {
        is_active: false,
        settings: { prompt: 'Studio portrait' },
      });
    });

    const testRun = (slotId: string, upload: BoothUpload, headers: Record<string, string> = {}) =>
      boothPost(`${app.url}/api/slots/${slotId}/test-run`, upload, { headers });
    const auth = () => ({ authorization: `Bearer ${token}` });

    it('needs the admin token', async () => {
      const photo = await jpeg(400, 300);
      const before = await jobCount(app);
      for (const headers of [{}, { authorization: 'Bearer not-a-token' }] as Array<
        Record<string, string>
      >) {
        const answer = await testRun(
          'slot-005',
          { file: { field: 'test_image', bytes: photo } },
          headers,
        );
        expect(answer.status).toBe(401);
        expect(answer.json).toMatchObject({ status: 'error', failure_reason: 'unauthorized' });
      }
      expect(await jobCount(app)).toBe(before);
      expect(env.gemini.requests).toHaveLength(0);
    });

    it('runs an inactive slot and answers like ingest, as a ui_test job', async () => {
      const photo = await jpeg(1200, 800);
      // The booth cannot use the slot yet…
      const booth409 = await post({ fields: booth(), file: { bytes: photo } }, '/ingest/slot-005');
      expect(booth409.status).toBe(409);

      // …the admin can try it.
      const answer = await ok(
        testRun('slot-005', { file: { field: 'test_image', bytes: photo } }, auth()),
      );
      const id = jobId(answer);
      expect(id).toMatch(UUID_V4);
      expect(answer.headers['content-type']).toBe('image/jpeg');
      expect(answer.headers['content-length']).toBe(String(answer.body.length));
      expect(answer.headers['cache-control']).toBe('no-store');
      expect(answer.headers['x-result-url']).toBe(`${BASE}/public/results/${id}`);
      expect(await size(answer.body)).toEqual({ width: 1200, height: 800, format: 'jpeg' });
      expect(env.gemini.requests).toHaveLength(1);
      expect(env.gemini.requests[0].text()).toBe(
        `${FACE_PRESERVING_INSTRUCTION}\n\nStudio portrait`,
      );

      expect(await jobRow(app, id)).toMatchObject({
        slot_id: 'slot-005',
        source: 'ui_test',
        status: 'completed',
        result_path: `results/slot-005/${id}/payload.jpg`,
      });
      const result = await download(app, String(answer.headers['x-result-url']));
      expect(result.body.equals(answer.body)).toBe(true);
      expect(existsSync(path.join(app.config.mediaRoot, 'results', 'slot-005', id))).toBe(true);
    });

    it('refuses a request without test_image, a slot without provider, an unknown slot', async () => {
      const photo = await jpeg(400, 300);
      const before = await jobCount(app);

      const missing = await testRun('slot-005', { fields: { note: 'x' } }, auth());
      expect(missing.status).toBe(400);
      expect(missing.json.failure_reason).toBe('invalid_request');

      const bare = await testRun(
        'slot-014',
        { file: { field: 'test_image', bytes: photo } },
        auth(),
      );
      expect(bare.status).toBe(409);
      expect(bare.json.failure_reason).toBe('slot_not_ready');

      const unknown = await testRun(
        'slot-016',
        { file: { field: 'test_image', bytes: photo } },
        auth(),
      );
      expect(unknown.status).toBe(404);
      expect(unknown.json.failure_reason).toBe('slot_not_found');

      const gif = await testRun(
        'slot-005',
        { file: { field: 'test_image', bytes: textBytes() } },
        auth(),
      );
      expect(gif.status).toBe(415);

      expect(await jobCount(app)).toBe(before);
      expect(env.gemini.requests).toHaveLength(0);
    });
  });
});
