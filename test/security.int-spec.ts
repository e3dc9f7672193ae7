// Security seen from outside (issue #8): the headers and CSP of every kind of answer, CORS closed,
// unguessable public ids, and template images never reachable without an expiring link.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { FakeGemini, GeminiReply } from './fakes/fake-gemini';
import { multipart } from './support/booth';
import { jpeg, png } from './support/images';
import { configureGeminiSlot, configureIngest, shoot } from './support/ingest-harness';
import { TestApp } from './support/test-app';
import { postFile, rawGet, uploadTemplate } from './support/uploads';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const PUBLIC_ORIGIN = 'https://photos.example.com';
const PAGE = '<!doctype html><base href="/admin/"><body><pc-root></pc-root></body>';
const EVIL = 'https://evil.example';

function policyOf(headers: Headers): Record<string, string[]> {
  const directives: Record<string, string[]> = {};
  for (const part of (headers.get('content-security-policy') ?? '').split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name) directives[name] = sources;
  }
  return directives;
}

/** What every answer carries, whatever its route or status. */
function expectHardened(route: string, headers: Headers): void {
  const seen = {
    route,
    nosniff: headers.get('x-content-type-options'),
    frames: headers.get('x-frame-options'),
    referrer: headers.get('referrer-policy'),
    opener: headers.get('cross-origin-opener-policy'),
    poweredBy: headers.get('x-powered-by'),
    hsts: headers.get('strict-transport-security'),
    cors: headers.get('access-control-allow-origin'),
  };
  expect(seen).toEqual({
    route,
    nosniff: 'nosniff',
    frames: 'DENY',
    referrer: 'no-referrer',
    opener: 'same-origin',
    poweredBy: null,
    hsts: null,
    cors: null,
  });
  const policy = policyOf(headers);
  expect({ route, ...policy }).toMatchObject({
    route,
    'default-src': ["'self'"],
    'script-src': ["'self'"],
    'script-src-attr': ["'none'"],
    'object-src': ["'none'"],
    'frame-ancestors': ["'none'"],
    'base-uri': ["'self'"],
    'form-action': ["'self'"],
    'connect-src': ["'self'"],
  });
}

describe('security', () => {
  let gemini: FakeGemini;
  let app: TestApp;
  let token: string;
  let uiDir: string;
  let photo: Buffer;

  beforeAll(async () => {
    uiDir = mkdtempSync(path.join(tmpdir(), 'photochanger-ui-'));
    writeFileSync(path.join(uiDir, 'index.html'), PAGE);
    writeFileSync(path.join(uiDir, 'main-AB12CD34.js'), 'console.log("main")');
    gemini = await FakeGemini.start();
    gemini.respondWith(GeminiReply.image(await jpeg(300, 200)));
    app = await TestApp.start({
      env: {
        ADMIN_UI_DIR: uiDir,
        PUBLIC_MEDIA_BASE_URL: PUBLIC_ORIGIN,
        TRUST_PROXY: 'true',
        GEMINI_BASE_URL: gemini.baseUrl,
        GEMINI_API_KEY: 'security-test-key',
      },
    });
    token = await configureIngest(app);
    await configureGeminiSlot(app, token, 'slot-001');
    photo = await jpeg(600, 400);
  });

  afterAll(async () => {
    await app?.close();
    await gemini?.close();
    rmSync(uiDir, { recursive: true, force: true });
  });

  describe('headers', () => {
    it('hardens every kind of answer: JSON, errors, files, the console page, results', async () => {
      const shot = await shoot(app, 'slot-001', photo);
      expect(shot.status).toBe(200);
      const jobId = String(shot.headers['x-job-id']);
      const routes: Array<[string, RequestInit?]> = [
        ['/healthz/live'],
        ['/api/account'],
        ['/api/no-such-route'],
        ['/api/docs-json'],
        [
          '/api/login',
          { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' },
        ],
        ['/admin/main-AB12CD34.js'],
        ['/admin/slots'],
        [`/public/results/${jobId}`],
        [`/public/results/${jobId}/preview`],
        ['/public/results/2f1c7a52-9a0e-4f3b-8d6e-0c1b2a3d4e5f'],
        ['/public/galleries/no-such-gallery', { headers: { accept: 'text/html' } }],
      ];
      for (const [route, init] of routes) {
        const response = await fetch(`${app.url}${route}`, init);
        await response.arrayBuffer();
        expectHardened(route, response.headers);
      }
    });

    it('lets a console on another origin show result images, and nothing else', async () => {
      const shot = await shoot(app, 'slot-001', photo);
      const jobId = String(shot.headers['x-job-id']);
      expect(String(shot.headers['x-result-url'])).toBe(`${PUBLIC_ORIGIN}/public/results/${jobId}`);

      const result = await fetch(`${app.url}/public/results/${jobId}`);
      expect(result.status).toBe(200);
      expect(result.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
      expect(result.headers.get('content-disposition')).toMatch(/^attachment;/);
      const api = await fetch(`${app.url}/api/account`);
      expect(api.headers.get('cross-origin-resource-policy')).toBe('same-origin');
      expect(policyOf(api.headers)['img-src']).toEqual(["'self'", 'blob:', PUBLIC_ORIGIN]);
      expect(policyOf(api.headers)['style-src']).toEqual(["'self'"]);
    });

    it('gives Swagger UI inline styles and data: icons, but no inline script', async () => {
      for (const route of ['/api/docs', '/api/docs/', '/api/docs/swagger-ui-init.js']) {
        const response = await fetch(`${app.url}${route}`);
        expect([route, response.status]).toEqual([route, 200]);
        const policy = policyOf(response.headers);
        expect(policy['script-src']).toEqual(["'self'"]);
        expect(policy['style-src']).toEqual(["'self'", "'unsafe-inline'"]);
        expect(policy['img-src']).toEqual(["'self'", 'blob:', 'data:']);
        expect(policy['frame-ancestors']).toEqual(["'none'"]);
      }
      const page = await (await fetch(`${app.url}/api/docs/`)).text();
      // Every script of the page is a file: none is inline.
      expect(page.match(/<script(?![^>]*\bsrc=)[^>]*>/g)).toBeNull();
    });

    it('sends HSTS only for requests that came over TLS through the trusted proxy', async () => {
      const secure = await app.request('GET', '/healthz/live', {
        headers: { 'x-forwarded-proto': 'https' },
      });
      expect(secure.headers.get('strict-transport-security')).toBe('max-age=15552000');
      const plain = await app.request('GET', '/healthz/live');
      expect(plain.headers.get('strict-transport-security')).toBeNull();
    });
  });

  describe('CORS', () => {
    it('allows no other origin to read any answer', async () => {
      const shot = await shoot(app, 'slot-001', photo);
      const jobId = String(shot.headers['x-job-id']);
      for (const route of ['/api/slots', `/api/jobs/${jobId}`, `/public/results/${jobId}`]) {
        const response = await app.request('GET', route, { token, headers: { origin: EVIL } });
        expect([route, response.status]).toEqual([route, 200]);
        const allowances = [...response.headers.keys()].filter((name) =>
          name.startsWith('access-control-'),
        );
        expect([route, allowances]).toEqual([route, []]);
      }
    });

    it('grants no preflight, so a browser never sends another origin’s request', async () => {
      const preflight = {
        origin: EVIL,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      };
      for (const route of [
        '/api/login',
        '/api/slots/slot-001',
        '/api/settings',
        '/ingest/slot-001',
        '/public/results/2f1c7a52-9a0e-4f3b-8d6e-0c1b2a3d4e5f',
      ]) {
        const response = await app.request('OPTIONS', route, { headers: preflight });
        expect([route, response.status]).toEqual([route, 404]);
        const allowances = [...response.headers.keys()].filter((name) =>
          name.startsWith('access-control-'),
        );
        expect([route, allowances]).toEqual([route, []]);
      }
    });
  });

  describe('public ids', () => {
    it('issues random version-4 UUIDs for jobs and media, and 256-bit gallery tokens', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const shot = await shoot(app, 'slot-001', photo);
        ids.push(String(shot.headers['x-job-id']));
      }
      const { body, contentType } = multipart({
        fields: {},
        file: { field: 'test_image', bytes: photo },
      });
      const testRun = await app.request('POST', '/api/slots/slot-001/test-run', {
        token,
        body,
        headers: { 'content-type': contentType },
      });
      expect(testRun.status).toBe(200);
      ids.push(String(testRun.headers.get('x-job-id')));
      const media = await postFile(app, '/api/media/register', token, await png(16, 16));
      expect(media.status).toBe(201);
      ids.push(media.body.id as string);
      expect(media.body.public_url).toBe(`${PUBLIC_ORIGIN}/public/provider-media/${media.body.id}`);
      ids.push((await uploadTemplate(app, token, await png(32, 32))).id);

      for (const id of ids) expect(id).toMatch(UUID_V4);
      expect(new Set(ids).size).toBe(ids.length);

      const tokens = new Set<string>();
      for (const slotId of ['slot-001', 'slot-002']) {
        const share = await app.request('POST', `/api/slots/${slotId}/gallery`, {
          token,
          json: { hours: 1 },
        });
        expect(share.status).toBe(201);
        const galleryToken = String(share.body.url).split('/public/galleries/')[1];
        // 43 base64url characters: 32 random bytes.
        expect(galleryToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
        tokens.add(galleryToken);
      }
      expect(tokens.size).toBe(2);
    });
  });

  describe('template images', () => {
    it('are never reachable through a public route, a static file or a path trick', async () => {
      const template = await uploadTemplate(app, token, await png(64, 48));
      const folder = path.join(app.config.mediaRoot, 'templates');
      const files = readdirSync(folder).filter((name) => name.startsWith(template.id));
      expect(files.length).toBeGreaterThan(0);
      const stored = files.map((name) => readFileSync(path.join(folder, name)));

      const attempts: string[] = [];
      const encode = (value: string) => encodeURIComponent(value);
      const fromUi = path.relative(uiDir, folder);
      for (const file of files) {
        attempts.push(
          `/public/results/${template.id}`,
          `/public/results/${template.id}/preview`,
          `/public/provider-media/${template.id}`,
          `/public/galleries/${template.id}`,
          `/api/jobs/${template.id}`,
          `/api/template-media/${template.id}/preview`,
          `/public/provider-media/..%2Ftemplates%2F${file}`,
          `/public/provider-media/%2e%2e%2ftemplates%2f${file}`,
          `/public/provider-media/..%2F..%2Fmedia%2Ftemplates%2F${file}`,
          `/public/results/..%2Ftemplates%2F${file}`,
          `/public/results/..%2F..%2Ftemplates%2F${file}/preview`,
          `/public/results/${template.id}%2F..%2F..%2Ftemplates%2F${file}`,
          `/admin/${encode(`${fromUi}/${file}`)}`,
          `/admin/${fromUi}/${file}`,
          `/admin/${encode(path.join(folder, file))}`,
          `/templates/${file}`,
          `/media/templates/${file}`,
          `/public/templates/${file}`,
          `/public/media/templates/${file}`,
        );
      }
      for (const attempt of attempts) {
        const response = await rawGet(app.url, attempt, { accept: 'application/json' });
        const refused = [401, 404].includes(response.status) && /json/.test(response.contentType);
        expect([attempt, response.status, refused]).toEqual([attempt, response.status, true]);
        for (const bytes of stored) expect(response.body.includes(bytes)).toBe(false);
      }
      // The same preview answers an admin, so the refusals above are not an accident.
      const preview = await rawGet(app.url, `/api/template-media/${template.id}/preview`, {
        authorization: `Bearer ${token}`,
      });
      expect(preview.status).toBe(200);
    });
  });
});

describe('security without a trusted proxy', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await TestApp.start();
  });

  afterAll(() => app.close());

  it('ignores a forwarded protocol: no HSTS over plain http', async () => {
    const response = await app.request('GET', '/healthz/live', {
      headers: { 'x-forwarded-proto': 'https' },
    });
    expect(response.headers.get('strict-transport-security')).toBeNull();
  });
});
