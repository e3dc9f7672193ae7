import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { TestApp } from './support/test-app';

const PAGE = '<!doctype html><base href="/admin/"><body><pc-root></pc-root></body>';
const SCRIPT = 'console.log("main")';

/** A request path exactly as written (fetch would normalise `..` away). */
function rawGet(url: string, rawPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const request = httpRequest(
      { host: target.hostname, port: target.port, path: rawPath, method: 'GET' },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      },
    );
    request.on('error', reject);
    request.end();
  });
}

describe('the admin console’s files', () => {
  let app: TestApp;
  let uiDir: string;

  beforeAll(async () => {
    uiDir = mkdtempSync(path.join(tmpdir(), 'photochanger-ui-'));
    writeFileSync(path.join(uiDir, 'index.html'), PAGE);
    writeFileSync(path.join(uiDir, 'main-AB12CD34.js'), SCRIPT);
    writeFileSync(path.join(uiDir, 'favicon.ico'), 'icon');
    mkdirSync(path.join(uiDir, 'media'));
    writeFileSync(path.join(uiDir, 'media', 'logo-Z9Y8X7W6.svg'), '<svg/>');
    app = await TestApp.start({ env: { ADMIN_UI_DIR: uiDir } });
  });

  afterAll(async () => {
    await app.close();
    rmSync(uiDir, { recursive: true, force: true });
  });

  const get = (route: string, headers: Record<string, string> = {}) =>
    fetch(`${app.url}${route}`, { redirect: 'manual', headers });

  it('redirects / and /admin to /admin/', async () => {
    const root = await get('/');
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/admin/');
    const bare = await get('/admin?x=1');
    expect(bare.status).toBe(301);
    expect(bare.headers.get('location')).toBe('/admin/?x=1');
  });

  it('serves index.html uncached at /admin/ and for every deep link', async () => {
    for (const route of ['/admin/', '/admin/login', '/admin/slots/slot-001', '/admin/stats?w=60']) {
      const response = await get(route);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect((await response.text()).replace(/ ngCspNonce="[^"]*"/, '')).toBe(PAGE);
    }
  });

  it('gives each page a fresh style nonce, the only inline style its policy allows', async () => {
    const nonces = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const response = await get('/admin/slots');
      const policy = response.headers.get('content-security-policy') ?? '';
      const nonce = /style-src 'self' 'nonce-([A-Za-z0-9+/]{22}==)'(;|$)/.exec(policy)?.[1];
      expect(nonce).toBeDefined();
      expect(await response.text()).toContain(`<pc-root ngCspNonce="${nonce}">`);
      expect(policy).toMatch(/script-src 'self';/);
      expect(policy).not.toContain('unsafe');
      nonces.add(nonce!);
    }
    expect(nonces.size).toBe(3);
  });

  it('sends its files with the same headers as every other answer', async () => {
    const script = await get('/admin/main-AB12CD34.js');
    expect(script.headers.get('x-content-type-options')).toBe('nosniff');
    expect(script.headers.get('content-security-policy')).toMatch(/^default-src 'self'; /);
    expect(script.headers.get('content-security-policy')).not.toContain('nonce');
  });

  it('caches hashed files for a year and revalidates the others', async () => {
    const script = await get('/admin/main-AB12CD34.js');
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    expect(script.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(await script.text()).toBe(SCRIPT);

    const media = await get('/admin/media/logo-Z9Y8X7W6.svg');
    expect(media.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');

    const icon = await get('/admin/favicon.ico');
    expect(icon.status).toBe(200);
    expect(icon.headers.get('cache-control')).toBe('no-cache');
  });

  it('answers a missing file with a JSON 404, not the page', async () => {
    const response = await get('/admin/chunk-MISSING1.js');
    expect(response.status).toBe(404);
    expect(((await response.json()) as { failure_reason: string }).failure_reason).toBe(
      'not_found',
    );
  });

  it('never serves a file outside the build', async () => {
    for (const rawPath of [
      '/admin/../package.json',
      '/admin/..%2f..%2fpackage.json',
      '/admin/%2e%2e/%2e%2e/package.json',
      '/admin/media/..%2f..%2f..%2fpackage.json',
    ]) {
      const response = await rawGet(app.url, rawPath);
      expect(response.body).not.toContain('"photochanger"');
    }
  });

  it('keeps unknown API routes a JSON 404', async () => {
    const response = await get('/api/no-such-route');
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/json/);
    expect(((await response.json()) as { failure_reason: string }).failure_reason).toBe(
      'not_found',
    );
  });
});

describe('a server without a built console', () => {
  let app: TestApp;
  let emptyDir: string;

  beforeAll(async () => {
    emptyDir = mkdtempSync(path.join(tmpdir(), 'photochanger-no-ui-'));
    app = await TestApp.start({ env: { ADMIN_UI_DIR: emptyDir } });
  });

  afterAll(async () => {
    await app.close();
    rmSync(emptyDir, { recursive: true, force: true });
  });

  it('starts, says so in the log, and answers /admin/ with a JSON 404', async () => {
    expect(app.logs).toContainEqual(
      expect.objectContaining({ event: 'admin_ui.not_built', dir: emptyDir }),
    );
    const page = await fetch(`${app.url}/admin/slots`);
    expect(page.status).toBe(404);
    expect(((await page.json()) as { message: string }).message).toMatch(/not built/);
    expect((await app.request('GET', '/healthz/live')).status).toBe(200);
    expect((await app.request('POST', '/api/login', { json: {} })).status).toBe(422);
  });
});
