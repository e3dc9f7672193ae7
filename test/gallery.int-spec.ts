import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { insertJob } from './factories';
import { sql } from './support/database';
import { TestApp } from './support/test-app';

const BASE = 'https://booth.example.com';
const HOUR = 3_600_000;
const LINK = new RegExp(`^${BASE}/public/galleries/([A-Za-z0-9_-]{43})$`);
const PAGE = '<!doctype html><title>PhotoChanger</title><app-root></app-root>';

describe('gallery sharing', () => {
  let app: TestApp;
  let token: string;
  let uiDir: string;

  beforeAll(async () => {
    // A stand-in for the built console, so the page answers do not depend on a UI build.
    uiDir = mkdtempSync(path.join(tmpdir(), 'photochanger-ui-'));
    writeFileSync(path.join(uiDir, 'index.html'), PAGE);
    app = await TestApp.start({ env: { PUBLIC_MEDIA_BASE_URL: BASE, ADMIN_UI_DIR: uiDir } });
    token = await app.login();
  });

  afterAll(async () => {
    await app.close();
    rmSync(uiDir, { recursive: true, force: true });
  });

  const share = (slotId: string, json: Record<string, unknown> = {}) =>
    app.request('POST', `/api/slots/${slotId}/gallery`, { token, json });
  const revoke = (slotId: string) =>
    app.request('DELETE', `/api/slots/${slotId}/gallery`, { token });
  const tokenOf = (url: string): string => LINK.exec(url)![1];
  const publicJson = (galleryToken: string) =>
    app.request('GET', `/public/galleries/${galleryToken}`, {
      headers: { accept: 'application/json' },
    });

  it('is admin-only to share, read and revoke', async () => {
    for (const method of ['POST', 'GET', 'DELETE']) {
      const response = await app.request(method, '/api/slots/slot-001/gallery', {
        json: method === 'POST' ? {} : undefined,
      });
      expect(response.status).toBe(401);
      expect(response.body.failure_reason).toBe('unauthorized');
    }
  });

  it('shares for 24 hours by default behind an unguessable link', async () => {
    const response = await share('slot-001');

    expect(response.status).toBe(201);
    expect(response.body).toEqual({
      url: expect.stringMatching(LINK),
      expires_at: expect.any(String),
    });
    expect(new Date(response.body.expires_at).getTime()).toBe(
      app.clock.now().getTime() + 24 * HOUR,
    );
    // 43 base64url characters: 256 random bits.
    expect(tokenOf(response.body.url)).toHaveLength(43);

    const current = await app.request('GET', '/api/slots/slot-001/gallery', { token });
    expect(current.status).toBe(200);
    expect(current.body).toEqual(response.body);
  });

  it('takes 1 to 168 hours and refuses anything else with 422', async () => {
    const week = await share('slot-002', { hours: 168 });
    expect(week.status).toBe(201);
    expect(new Date(week.body.expires_at).getTime()).toBe(app.clock.now().getTime() + 168 * HOUR);
    expect((await share('slot-003', { hours: 1 })).status).toBe(201);

    for (const hours of [0, 169, 1.5, '24', null]) {
      const response = await share('slot-004', { hours });
      expect(response.status).toBe(422);
      expect(response.body.failure_reason).toBe('validation_failed');
      expect(response.body.errors).toHaveProperty('hours');
    }
    const unknown = await share('slot-004', { hours: 2, extra: true });
    expect(unknown.status).toBe(422);
  });

  it('answers 404 for a slot that does not exist', async () => {
    for (const method of ['POST', 'GET', 'DELETE']) {
      const response = await app.request(method, '/api/slots/slot-099/gallery', {
        token,
        json: method === 'POST' ? {} : undefined,
      });
      expect(response.status).toBe(404);
      expect(response.body.failure_reason).toBe('slot_not_found');
    }
  });

  it('says when a slot is not shared', async () => {
    const response = await app.request('GET', '/api/slots/slot-015/gallery', { token });
    expect(response.status).toBe(404);
    expect(response.body.failure_reason).toBe('gallery_not_found');
  });

  it('shows guests the slot’s kept booth results, newest first, without signing in', async () => {
    const now = app.clock.now().getTime();
    const older = await insertJob(app.databaseUrl, {
      slotId: 'slot-005',
      startedAt: new Date(now - 3 * HOUR),
    });
    const newer = await insertJob(app.databaseUrl, {
      slotId: 'slot-005',
      startedAt: new Date(now - HOUR),
    });
    // Not shown: a test-run, a failure, an expired and a deleted result, another slot's result.
    await insertJob(app.databaseUrl, { slotId: 'slot-005', source: 'ui_test' });
    await insertJob(app.databaseUrl, { slotId: 'slot-005', status: 'failed_timeout' });
    await insertJob(app.databaseUrl, {
      slotId: 'slot-005',
      startedAt: new Date(now - 100 * HOUR),
      resultExpiresAt: new Date(now - HOUR),
    });
    await insertJob(app.databaseUrl, { slotId: 'slot-005', resultDeletedAt: new Date(now) });
    await insertJob(app.databaseUrl, { slotId: 'slot-006' });

    const link = await share('slot-005', { hours: 6 });
    const response = await publicJson(tokenOf(link.body.url));

    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.body).toEqual({
      slot_id: 'slot-005',
      display_name: 'Слот 005',
      expires_at: link.body.expires_at,
      results: [newer, older].map((job) => ({
        job_id: job.id,
        result_url: `${BASE}/public/results/${job.id}`,
        preview_url: `${BASE}/public/results/${job.id}/preview`,
        finished_at: job.finishedAt!.toISOString(),
      })),
    });
  });

  it('keeps the link while it works when shared again, moving only its expiry', async () => {
    const first = await share('slot-007', { hours: 2 });
    app.clock.advance(HOUR);
    const again = await share('slot-007', { hours: 48 });

    expect(again.status).toBe(201);
    expect(again.body.url).toBe(first.body.url);
    expect(new Date(again.body.expires_at).getTime()).toBe(app.clock.now().getTime() + 48 * HOUR);
    expect((await publicJson(tokenOf(first.body.url))).body.expires_at).toBe(again.body.expires_at);
  });

  it('answers 410 once revoked, and a new share makes a new link', async () => {
    const link = await share('slot-008');
    const galleryToken = tokenOf(link.body.url);
    expect((await publicJson(galleryToken)).status).toBe(200);

    const revoked = await revoke('slot-008');
    expect(revoked.status).toBe(204);
    expect(revoked.body).toBe('');

    const gone = await publicJson(galleryToken);
    expect(gone.status).toBe(410);
    expect(gone.body.failure_reason).toBe('gallery_expired');
    expect((await app.request('GET', '/api/slots/slot-008/gallery', { token })).status).toBe(404);
    // Revoking twice is harmless.
    expect((await revoke('slot-008')).status).toBe(204);

    const renewed = await share('slot-008');
    expect(renewed.body.url).not.toBe(link.body.url);
    expect((await publicJson(tokenOf(renewed.body.url))).status).toBe(200);
    expect((await publicJson(galleryToken)).status).toBe(410);
  });

  it('answers 410 once expired', async () => {
    const link = await share('slot-009', { hours: 1 });
    app.clock.advance(HOUR - 1000);
    expect((await publicJson(tokenOf(link.body.url))).status).toBe(200);
    app.clock.advance(1000);
    const expired = await publicJson(tokenOf(link.body.url));
    expect(expired.status).toBe(410);
    expect(expired.body.failure_reason).toBe('gallery_expired');
    expect((await app.request('GET', '/api/slots/slot-009/gallery', { token })).status).toBe(404);
  });

  it('answers 404 for a token it never issued', async () => {
    for (const unknown of ['A'.repeat(43), 'short', `${'b'.repeat(43)}x`, '%00']) {
      const response = await publicJson(unknown);
      expect(response.status).toBe(404);
      expect(response.body.failure_reason).toBe('gallery_not_found');
    }
  });

  it('gives browsers the console’s gallery page, with the link’s status', async () => {
    const link = await share('slot-010');
    const browser = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };

    const page = await app.request('GET', new URL(link.body.url).pathname, { headers: browser });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.body).toBe(PAGE);

    const unknown = await app.request('GET', `/public/galleries/${'C'.repeat(43)}`, {
      headers: browser,
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toBe(PAGE);

    await revoke('slot-010');
    const revoked = await app.request('GET', new URL(link.body.url).pathname, { headers: browser });
    expect(revoked.status).toBe(410);
    expect(revoked.body).toBe(PAGE);
  });

  it('records who shared and revoked, without the link', async () => {
    await share('slot-011', { hours: 3 });
    await revoke('slot-011');
    const rows = await sql<{ action: string; actor: string; new_value: unknown }>(
      app.databaseUrl,
      "SELECT action, actor, new_value FROM audit_log WHERE entity_type = 'gallery' AND entity_id = 'slot-011' ORDER BY id",
    );
    expect(rows.map((row) => [row.action, row.actor])).toEqual([
      ['share', 'serg'],
      ['revoke', 'serg'],
    ]);
    expect(JSON.stringify(rows)).not.toContain('/public/galleries/');
  });
});
