// Temporary public media links (SPEC §5, §6, §7): `POST /api/media/register` and
// `GET /public/provider-media/{id}` — unguessable, short-lived, and confined to MEDIA_ROOT.
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import sharp from 'sharp';
import { sql } from './support/database';
import { gif, jpeg, png, textBytes } from './support/images';
import { configureIngest } from './support/ingest-harness';
import { freePort } from './support/server-process';
import { TestApp } from './support/test-app';
import { dimensions, postFile, rawGet } from './support/uploads';

const REGISTER = '/api/media/register';
const TTL_SECONDS = 20;
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const SECRET = 'TOP-SECRET-OUTSIDE-MEDIA-ROOT';

describe('provider media links', () => {
  let app: TestApp;
  let token: string;
  let base: string;

  const mediaObjects = async (): Promise<number> => {
    const [row] = await sql<{ count: number }>(
      app.databaseUrl,
      'SELECT count(*)::int AS count FROM media_object',
    );
    return row.count;
  };

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    app = await TestApp.start({ port, env: { PUBLIC_MEDIA_BASE_URL: base } });
    token = await configureIngest(app, { settings: { sync_response_seconds: TTL_SECONDS } });
  });

  afterAll(() => app.close());

  it('publishes an upload for sync_response_seconds behind an unguessable public link', async () => {
    const registeredAt = app.clock.now().getTime();
    const response = await postFile(app, REGISTER, token, await png(300, 200));

    expect(response.status).toBe(201);
    const { id } = response.body as { id: string };
    expect(id).toMatch(UUID_V4);
    expect(response.body).toEqual({
      id,
      public_url: `${base}/public/provider-media/${id}`,
      expires_at: new Date(registeredAt + TTL_SECONDS * 1000).toISOString(),
    });
    const [row] = await sql(app.databaseUrl, 'SELECT * FROM media_object WHERE id = $1', [id]);
    expect(row).toMatchObject({ kind: 'upload', job_id: null, mime_type: 'image/png' });

    // The absolute link itself, no token: what a provider fetches.
    const served = await fetch(response.body.public_url);
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('image/png');
    expect(served.headers.get('cache-control')).toBe('no-store');
    expect(await dimensions(Buffer.from(await served.arrayBuffer()))).toEqual({
      width: 300,
      height: 200,
      format: 'png',
    });

    app.clock.advance(TTL_SECONDS * 1000 - 1);
    expect((await fetch(response.body.public_url)).status).toBe(200);
    app.clock.advance(2);
    const expired = await app.request('GET', `/public/provider-media/${id}`);
    expect(expired.status).toBe(410);
    expect(expired.body).toMatchObject({ status: 'error', failure_reason: 'media_expired' });
  });

  it('serves the type it was given, re-encoded without camera metadata', async () => {
    const response = await postFile(
      app,
      REGISTER,
      token,
      await jpeg(320, 240, { cameraExif: true }),
    );
    expect(response.status).toBe(201);

    const served = await fetch(response.body.public_url);
    expect(served.headers.get('content-type')).toBe('image/jpeg');
    const meta = await sharp(Buffer.from(await served.arrayBuffer())).metadata();
    expect([meta.format, meta.width, meta.height, meta.exif]).toEqual([
      'jpeg',
      320,
      240,
      undefined,
    ]);
  });

  it('gives every link its own random version-4 id', async () => {
    const ids = new Set<string>();
    for (let index = 0; index < 5; index += 1) {
      const response = await postFile(app, REGISTER, token, await png(16, 16));
      expect(response.body.id).toMatch(UUID_V4);
      ids.add(response.body.id as string);
    }
    expect(ids.size).toBe(5);
  });

  it('answers 404 media_not_found for an unknown id', async () => {
    const response = await app.request(
      'GET',
      '/public/provider-media/2f1c7a52-9a0e-4f3b-8d6e-0c1b2a3d4e5f',
    );
    expect(response.status).toBe(404);
    expect(response.body).toMatchObject({ status: 'error', failure_reason: 'media_not_found' });
  });

  it('never serves a file outside MEDIA_ROOT, whatever the id', async () => {
    const outside = path.join(app.dataDir, 'outside.txt');
    await writeFile(outside, SECRET);
    await writeFile(path.join(app.config.mediaRoot, 'inside.png'), await png(8, 8));
    const { id } = (await postFile(app, REGISTER, token, await png(16, 16))).body as { id: string };
    const attempts = [
      '..%2F..%2Fetc%2Fpasswd',
      '..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd',
      '../x',
      '..%2Foutside.txt',
      '..%2F..%2Foutside.txt',
      '%2e%2e%2f%2e%2e%2foutside.txt',
      '..%5C..%5Coutside.txt',
      encodeURIComponent(outside),
      '%2Fetc%2Fpasswd',
      'inside.png',
      `${id}%2F..%2F..%2F..%2Foutside.txt`,
      `..%2Fprovider-media%2F${id}.png`,
    ];
    for (const attempt of attempts) {
      const response = await rawGet(app.url, `/public/provider-media/${attempt}`);
      expect([attempt, response.status]).toEqual([attempt, 404]);
      expect(response.contentType).toMatch(/json/);
      const text = response.body.toString('utf8');
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain('root:');
    }
    expect(existsSync(outside)).toBe(true);
  });

  it('refuses non-images with 415 and anonymous callers with 401, publishing nothing', async () => {
    const before = await mediaObjects();
    for (const bytes of [textBytes(), await gif(32, 32)]) {
      const response = await postFile(app, REGISTER, token, bytes);
      expect(response.status).toBe(415);
      expect(response.body).toMatchObject({ failure_reason: 'unsupported_media_type' });
    }
    const anonymous = await postFile(app, REGISTER, undefined, await png(16, 16));
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toMatchObject({ failure_reason: 'unauthorized' });
    expect(await mediaObjects()).toBe(before);
  });
});
