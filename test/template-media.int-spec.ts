// Template images (SPEC §3, §6): admin-only uploads kept for slots, never jobs, never public; and
// how a slot's templates reach Gemini with the guest photo (SPEC §5).
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import sharp from 'sharp';
import { boothPost, dslrFields } from './support/booth';
import { sql } from './support/database';
import {
  BACKGROUND,
  closeTo,
  gif,
  jpeg,
  MARKER,
  pixelAt,
  png,
  pngHeaderDeclaring,
  Rgb,
  textBytes,
  truncatedJpeg,
} from './support/images';
import {
  INGEST_PASSWORD,
  IngestEnv,
  jobCount,
  saveSettings,
  saveSlot,
  startIngestApp,
  stopIngestApp,
  tempFiles,
} from './support/ingest-setup';
import type { TestApp } from './support/test-app';
import { dimensions, postFile, rawGet, solidImage, uploadTemplate } from './support/uploads';

const REGISTER = '/api/template-media/register';
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const GREEN: Rgb = { r: 0, g: 200, b: 0 };
const YELLOW: Rgb = { r: 250, g: 220, b: 0 };
const MAGENTA: Rgb = { r: 220, g: 0, b: 220 };

describe('template media', () => {
  let env: IngestEnv;
  let app: TestApp;
  let token: string;

  const templatesDir = () => path.join(app.config.mediaRoot, 'templates');
  const templateFiles = async (): Promise<string[]> =>
    existsSync(templatesDir()) ? (await readdir(templatesDir())).sort() : [];
  const templateRows = async (): Promise<number> => {
    const [row] = await sql<{ count: number }>(
      app.databaseUrl,
      'SELECT count(*)::int AS count FROM template_media',
    );
    return row.count;
  };
  const preview = (id: string, withToken = true) =>
    fetch(`${app.url}/api/template-media/${id}/preview`, {
      headers: withToken ? { authorization: `Bearer ${token}` } : {},
    });

  beforeAll(async () => {
    env = await startIngestApp();
    app = env.app;
    token = env.token;
  });

  afterAll(() => stopIngestApp(env));

  it('refuses anonymous uploads, previews and deletes with 401', async () => {
    const upload = await postFile(app, REGISTER, undefined, await png(64, 48));
    expect(upload.status).toBe(401);
    expect(upload.body).toMatchObject({ status: 'error', failure_reason: 'unauthorized' });
    const id = (await uploadTemplate(app, token, await png(64, 48))).id;

    expect((await preview(id, false)).status).toBe(401);
    const removal = await app.request('DELETE', `/api/template-media/${id}`);
    expect(removal.status).toBe(401);
    expect((await preview(id)).status).toBe(200);
    expect(await templateRows()).toBe(1);
    await app.request('DELETE', `/api/template-media/${id}`, { token });
  });

  it('stores an EXIF-rotated upload upright, without its metadata', async () => {
    // Stored 600×400 with the red marker top-left; Orientation 6 shows it 400×600, marker top-right.
    const upload = await jpeg(600, 400, { orientation: 6, cameraExif: true });
    const response = await postFile(app, REGISTER, token, upload, {
      slot_id: 'slot-003',
      media_kind: 'style',
    });

    expect(response.status).toBe(201);
    const id = response.body.id as string;
    expect(id).toMatch(UUID_V4);
    expect(response.body).toEqual({
      id,
      mime_type: 'image/jpeg',
      size_bytes: expect.any(Number),
      width: 400,
      height: 600,
      preview_url: `/api/template-media/${id}/preview`,
    });

    const stored = await readFile(path.join(templatesDir(), `${id}.jpg`));
    expect(stored.length).toBe(response.body.size_bytes);
    const meta = await sharp(stored).metadata();
    expect([meta.width, meta.height, meta.orientation ?? 1]).toEqual([400, 600, 1]);
    expect(meta.exif).toBeUndefined();
    expect(closeTo(await pixelAt(stored, 350, 50), MARKER)).toBe(true);
    expect(closeTo(await pixelAt(stored, 50, 50), BACKGROUND)).toBe(true);

    const [row] = await sql(app.databaseUrl, 'SELECT * FROM template_media WHERE id = $1', [id]);
    expect(row).toMatchObject({
      path: `templates/${id}.jpg`,
      mime_type: 'image/jpeg',
      sha256: createHash('sha256').update(upload).digest('hex'),
      width: 400,
      height: 600,
      created_by: 'serg',
    });
    expect(await tempFiles(app)).toEqual([]);
  });

  it('serves a WEBP preview of at most 512 px to admins only', async () => {
    const template = await uploadTemplate(app, token, await png(1200, 800));

    const response = await preview(template.id);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^image\/webp/);
    const shown = await dimensions(Buffer.from(await response.arrayBuffer()));
    expect(shown).toEqual({ width: 512, height: 341, format: 'webp' });

    const anonymous = await preview(template.id, false);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ failure_reason: 'unauthorized' });
    for (const id of ['4b0c9a5e-2f0d-4c1a-9e57-3f1d2c4b5a69', 'not-a-uuid', '..%2F..%2Fsecrets']) {
      const missing = await rawGet(app.url, `/api/template-media/${id}/preview`, {
        authorization: `Bearer ${token}`,
      });
      expect(missing.status).toBe(404);
    }
    const unknown = await preview('4b0c9a5e-2f0d-4c1a-9e57-3f1d2c4b5a69');
    expect(await unknown.json()).toMatchObject({ failure_reason: 'media_not_found' });
  });

  it('refuses what is not a usable JPEG, PNG or WEBP with 415 and keeps nothing', async () => {
    const rows = await templateRows();
    const files = await templateFiles();
    const refused = {
      text: textBytes(),
      gif: await gif(64, 48),
      truncated: await truncatedJpeg(),
      bomb: pngHeaderDeclaring(60_000, 60_000),
    };
    for (const [what, bytes] of Object.entries(refused)) {
      const response = await postFile(app, REGISTER, token, bytes, { media_kind: 'style' });
      expect([what, response.status]).toEqual([what, 415]);
      expect(response.body).toMatchObject({ failure_reason: 'unsupported_media_type' });
    }
    expect(await templateRows()).toBe(rows);
    expect(await templateFiles()).toEqual(files);
    expect(await tempFiles(app)).toEqual([]);
  });

  it('answers 422 for a bad media_kind or slot_id and 400 without a file', async () => {
    const rows = await templateRows();
    const photo = await png(64, 48);
    const kind = await postFile(app, REGISTER, token, photo, { media_kind: 'sparkles' });
    expect(kind.status).toBe(422);
    expect(kind.body).toMatchObject({
      failure_reason: 'validation_failed',
      errors: { media_kind: expect.any(String) },
    });
    for (const slotId of ['nope', 'slot-016', 'slot-000', '../slot-001']) {
      const slot = await postFile(app, REGISTER, token, photo, { slot_id: slotId });
      expect([slotId, slot.status]).toEqual([slotId, 422]);
      expect(slot.body.errors).toEqual({ slot_id: expect.any(String) });
    }

    const noFile = await postFile(app, REGISTER, token, undefined, { media_kind: 'style' });
    expect(noFile.status).toBe(400);
    expect(noFile.body).toMatchObject({ failure_reason: 'invalid_request' });
    const notMultipart = await app.request('POST', REGISTER, { token, json: { file: 'x' } });
    expect(notMultipart.status).toBe(400);
    expect(await templateRows()).toBe(rows);
  });

  it('is bound through the slot, cannot be deleted while bound, and is gone once deleted', async () => {
    const template = await uploadTemplate(app, token, await png(320, 240), {
      slot_id: 'slot-002',
      media_kind: 'style',
    });
    const files = [`${template.id}.png`, `${template.id}.preview.webp`];
    expect(await templateFiles()).toEqual(expect.arrayContaining(files));

    await saveSlot(app, token, 'slot-002', {
      provider: 'turbotext',
      operation: 'style_transfer',
      is_active: false,
      settings: { prompt: 'Oil painting' },
      template_media: [{ media_kind: 'style', template_media_id: template.id }],
    });
    const slot = await app.request('GET', '/api/slots/slot-002', { token });
    expect(slot.body.template_media).toEqual([
      {
        media_kind: 'style',
        template_media_id: template.id,
        mime_type: 'image/png',
        width: 320,
        height: 240,
        preview_url: template.preview_url,
      },
    ]);

    const inUse = await app.request('DELETE', `/api/template-media/${template.id}`, { token });
    expect(inUse.status).toBe(409);
    expect(inUse.body).toMatchObject({ status: 'error', failure_reason: 'template_in_use' });
    expect(inUse.body.message).toContain('slot-002');
    expect(await templateFiles()).toEqual(expect.arrayContaining(files));
    expect((await preview(template.id)).status).toBe(200);

    await saveSlot(app, token, 'slot-002', {
      provider: null,
      operation: null,
      is_active: false,
      settings: {},
      template_media: [],
    });
    const deleted = await app.request('DELETE', `/api/template-media/${template.id}`, { token });
    expect(deleted.status).toBe(204);
    expect(await templateFiles()).not.toEqual(expect.arrayContaining([files[0]]));
    expect(await templateFiles()).not.toEqual(expect.arrayContaining([files[1]]));
    expect((await preview(template.id)).status).toBe(404);
    const again = await app.request('DELETE', `/api/template-media/${template.id}`, { token });
    expect(again.status).toBe(404);

    const audit = await sql(
      app.databaseUrl,
      `SELECT actor, action, new_value FROM audit_log
        WHERE entity_type = 'template_media' AND entity_id = $1 ORDER BY id`,
      [template.id],
    );
    expect(audit).toEqual([
      {
        actor: 'serg',
        action: 'create',
        new_value: expect.objectContaining({ slot_id: 'slot-002', media_kind: 'style' }),
      },
      { actor: 'serg', action: 'delete', new_value: null },
    ]);
  });

  it('never makes a job, a result or a public link', async () => {
    const template = await uploadTemplate(app, token, await png(200, 150), {
      slot_id: 'slot-003',
      media_kind: 'style',
    });

    expect(await jobCount(app)).toBe(0);
    const [objects] = await sql<{ count: number }>(
      app.databaseUrl,
      'SELECT count(*)::int AS count FROM media_object',
    );
    expect(objects.count).toBe(0);
    const slot = await app.request('GET', '/api/slots/slot-003', { token });
    expect(slot.body.recent_results).toEqual([]);

    const routes = {
      [`/public/results/${template.id}`]: 'result_not_found',
      [`/public/results/${template.id}/preview`]: 'result_not_found',
      [`/public/provider-media/${template.id}`]: 'media_not_found',
      [`/api/jobs/${template.id}`]: 'job_not_found',
    };
    for (const [route, reason] of Object.entries(routes)) {
      const response = await app.request('GET', route);
      expect([route, response.status, response.body.failure_reason]).toEqual([route, 404, reason]);
    }
  });

  it('sends Gemini the photo, then the templates by kind and upload time, downscaled', async () => {
    await saveSettings(app, token, { provider_max_edge_px: 512 });
    const firstBackground = await uploadTemplate(app, token, await solidImage(1600, 1200, YELLOW));
    app.clock.advance(1_000);
    const style = await uploadTemplate(app, token, await solidImage(800, 1200, GREEN, 'jpeg'));
    app.clock.advance(1_000);
    const secondBackground = await uploadTemplate(
      app,
      token,
      await solidImage(1200, 1600, MAGENTA, 'webp'),
    );
    await saveSlot(app, token, 'slot-004', {
      template_media: [
        { media_kind: 'style', template_media_id: style.id },
        { media_kind: 'background', template_media_id: secondBackground.id },
        { media_kind: 'background', template_media_id: firstBackground.id },
      ],
    });

    const answer = await boothPost(`${app.url}/ingest/slot-004`, {
      fields: { ...dslrFields(), password: INGEST_PASSWORD },
      file: { bytes: await jpeg(2000, 1500) },
    });

    expect(answer.status).toBe(200);
    const images = env.gemini.lastRequest?.images() ?? [];
    const seen = await Promise.all(
      images.map(async ({ mimeType, bytes }) => ({
        mimeType,
        ...(await dimensions(bytes)),
        colour: await pixelAt(bytes, 10, 200),
      })),
    );
    const expected: Array<[string, number, number, Rgb]> = [
      ['image/jpeg', 512, 384, BACKGROUND], // the guest photo
      ['image/png', 512, 384, YELLOW],
      ['image/webp', 384, 512, MAGENTA],
      ['image/jpeg', 341, 512, GREEN],
    ];
    expect(seen.map(({ mimeType, width, height }) => [mimeType, width, height])).toEqual(
      expected.map(([mimeType, width, height]) => [mimeType, width, height]),
    );
    seen.forEach((image, index) => expect(closeTo(image.colour, expected[index][3])).toBe(true));
  });
});
