import { randomUUID } from 'node:crypto';
import { insertJob, insertTemplateMedia } from './factories';
import { sql } from './support/database';
import { TestApp } from './support/test-app';

const BASE = 'https://booth.example.com';
const HOUR = 3_600_000;

describe('slots API', () => {
  let app: TestApp;
  let token: string;

  beforeAll(async () => {
    app = await TestApp.start({ env: { PUBLIC_MEDIA_BASE_URL: BASE } });
    token = await app.login();
  });

  afterAll(async () => {
    await app.close();
  });

  const get = (id: string) => app.request('GET', `/api/slots/${id}`, { token });
  const put = (id: string, json: Record<string, unknown>) =>
    app.request('PUT', `/api/slots/${id}`, { token, json });

  const geminiSlot = (overrides: Record<string, unknown> = {}) => ({
    display_name: 'Ночной город',
    provider: 'gemini',
    operation: 'image_edit',
    is_active: true,
    settings: { prompt: 'Замени фон на ночной город', aspect_ratio: '3:2' },
    template_media: [],
    version: 1,
    ...overrides,
  });

  it('refuses anonymous calls', async () => {
    expect((await app.request('GET', '/api/slots')).status).toBe(401);
    const response = await app.request('PUT', '/api/slots/slot-001', { json: geminiSlot() });
    expect(response.status).toBe(401);
    expect(response.body.failure_reason).toBe('unauthorized');
  });

  it('lists the 15 slots by id with ingest links and the latest booth job', async () => {
    const now = app.clock.now().getTime();
    await insertJob(app.databaseUrl, { slotId: 'slot-002', startedAt: new Date(now - 2 * HOUR) });
    const latest = await insertJob(app.databaseUrl, {
      slotId: 'slot-002',
      status: 'failed_timeout',
      startedAt: new Date(now - HOUR),
    });
    // A test-run is the admin trying the slot, not what the booth last got.
    await insertJob(app.databaseUrl, {
      slotId: 'slot-002',
      source: 'ui_test',
      startedAt: new Date(now),
    });

    const response = await app.request('GET', '/api/slots', { token });

    expect(response.status).toBe(200);
    expect(response.body.map((slot: any) => slot.id)).toEqual(
      Array.from({ length: 15 }, (_, i) => `slot-${String(i + 1).padStart(3, '0')}`),
    );
    expect(response.body[0]).toEqual({
      id: 'slot-001',
      display_name: 'Слот 001',
      provider: null,
      operation: null,
      is_active: false,
      version: 1,
      updated_at: expect.any(String),
      ingest_url: `${BASE}/ingest/slot-001`,
      last_job_at: null,
      last_status: null,
    });
    expect(response.body[1]).toMatchObject({
      ingest_url: `${BASE}/ingest/slot-002`,
      last_job_at: latest.startedAt.toISOString(),
      last_status: 'failed_timeout',
    });
  });

  it('answers 404 slot_not_found for anything that is not a slot', async () => {
    for (const id of ['slot-999', 'slot-016', 'SLOT-001', '..%2Fx', 'slot-001%20']) {
      const response = await get(id);
      expect([id, response.status, response.body.failure_reason]).toEqual([
        id,
        404,
        'slot_not_found',
      ]);
    }
    expect((await put('slot-999', geminiSlot())).status).toBe(404);
  });

  it('saves a Gemini slot, bumps its version and records the change', async () => {
    app.clock.set(new Date('2026-11-20T10:00:00.000Z'));

    const saved = await put('slot-003', geminiSlot({ display_name: '  Ночной город  ' }));

    expect(saved.status).toBe(200);
    expect(saved.body).toMatchObject({
      id: 'slot-003',
      display_name: 'Ночной город',
      provider: 'gemini',
      operation: 'image_edit',
      is_active: true,
      settings: { prompt: 'Замени фон на ночной город', aspect_ratio: '3:2' },
      version: 2,
      updated_at: '2026-11-20T10:00:00.000Z',
      updated_by: 'serg',
      ingest_url: `${BASE}/ingest/slot-003`,
      template_media: [],
      recent_results: [],
    });
    expect((await get('slot-003')).body).toEqual(saved.body);

    const [audit] = await sql(
      app.databaseUrl,
      "SELECT * FROM audit_log WHERE entity_type = 'slot' AND entity_id = 'slot-003'",
    );
    expect(audit).toMatchObject({
      actor: 'serg',
      action: 'update',
      old_value: { provider: null, settings: {}, version: 1 },
      new_value: { provider: 'gemini', display_name: 'Ночной город', version: 2 },
    });

    const again = await put('slot-003', geminiSlot({ is_active: false, version: 2 }));
    expect([again.status, again.body.version, again.body.is_active]).toEqual([200, 3, false]);
  });

  it('refuses a stale version with 409 and leaves the slot as it was', async () => {
    expect((await put('slot-007', geminiSlot())).status).toBe(200);

    const stale = await put('slot-007', geminiSlot({ display_name: 'Другое', version: 1 }));

    expect(stale.status).toBe(409);
    expect(stale.body.failure_reason).toBe('version_conflict');
    expect(stale.body.message).toContain('version 2');
    const [row] = await sql(app.databaseUrl, "SELECT * FROM slot WHERE id = 'slot-007'");
    expect(row).toMatchObject({ display_name: 'Ночной город', version: 2 });
    const audits = await sql(
      app.databaseUrl,
      "SELECT id FROM audit_log WHERE entity_id = 'slot-007'",
    );
    expect(audits).toHaveLength(1);
  });

  it('binds the template a Turbotext operation needs, and clears bindings on reset', async () => {
    const style = await insertTemplateMedia(app.databaseUrl, { width: 800, height: 600 });

    const saved = await put('slot-004', {
      display_name: 'Акварель',
      provider: 'turbotext',
      operation: 'style_transfer',
      is_active: true,
      settings: { prompt: 'акварель' },
      template_media: [{ media_kind: 'style', template_media_id: style.id }],
      version: 1,
    });

    expect(saved.status).toBe(200);
    expect(saved.body.template_media).toEqual([
      {
        media_kind: 'style',
        template_media_id: style.id,
        mime_type: 'image/png',
        width: 800,
        height: 600,
        preview_url: `/api/template-media/${style.id}/preview`,
      },
    ]);

    // Unconfigured but switched on: allowed, ingest answers slot_not_ready.
    const reset = await put('slot-004', {
      display_name: 'Акварель',
      provider: null,
      operation: null,
      is_active: true,
      settings: {},
      template_media: [],
      version: 2,
    });
    expect(reset.status).toBe(200);
    expect(reset.body).toMatchObject({ provider: null, operation: null, template_media: [] });
    const bindings = await sql(
      app.databaseUrl,
      "SELECT * FROM slot_template_media WHERE slot_id = 'slot-004'",
    );
    expect(bindings).toEqual([]);
  });

  it('reports every problem of a save in one 422 and saves nothing', async () => {
    const expectErrors = async (body: Record<string, unknown>, keys: string[]) => {
      const response = await put('slot-005', body);
      expect(response.status).toBe(422);
      expect(response.body).toMatchObject({ status: 'error', failure_reason: 'validation_failed' });
      expect(Object.keys(response.body.errors).sort()).toEqual([...keys].sort());
      return response.body.errors as Record<string, string>;
    };

    const errors = await expectErrors(
      {
        ...geminiSlot(),
        provider: 'turbotext',
        settings: { strength: 81, foo: 'bar' },
        template_media: [{ media_kind: 'style', template_media_id: randomUUID() }],
      },
      [
        'settings.prompt',
        'settings.strength',
        'settings.foo',
        'template_media.0.media_kind',
        'template_media.0.template_media_id',
      ],
    );
    expect(errors['template_media.0.template_media_id']).toBe('no such template');

    const style = await insertTemplateMedia(app.databaseUrl);
    const missing = await expectErrors(
      {
        ...geminiSlot({ provider: 'turbotext', operation: 'identity_transfer', settings: {} }),
        template_media: [{ media_kind: 'style', template_media_id: style.id }],
      },
      ['template_media', 'template_media.0.media_kind'],
    );
    expect(missing.template_media).toContain('"base"');

    await expectErrors(geminiSlot({ provider: 'openai' }), ['provider']);
    await expectErrors(geminiSlot({ operation: 'style_transfer' }), ['operation']);
    await expectErrors(geminiSlot({ settings: {} }), ['settings.prompt']);
    await expectErrors(geminiSlot({ display_name: '   ', version: undefined }), [
      'display_name',
      'version',
    ]);

    const [row] = await sql(app.databaseUrl, "SELECT version FROM slot WHERE id = 'slot-005'");
    expect(row.version).toBe(1);
  });

  it('shows the last 10 results still served, by the injected clock', async () => {
    const now = new Date('2026-11-21T12:00:00.000Z');
    app.clock.set(now);
    const at = (hoursAgo: number) => new Date(now.getTime() - hoursAgo * HOUR);
    const kept = [];
    for (let i = 1; i <= 11; i++) {
      kept.push(await insertJob(app.databaseUrl, { slotId: 'slot-006', finishedAt: at(i + 2) }));
    }
    // Newer than every kept result, but not served any more (or never produced).
    await insertJob(app.databaseUrl, {
      slotId: 'slot-006',
      finishedAt: at(1),
      resultExpiresAt: at(0.5),
    });
    await insertJob(app.databaseUrl, {
      slotId: 'slot-006',
      finishedAt: at(1),
      resultDeletedAt: at(0.5),
    });
    await insertJob(app.databaseUrl, {
      slotId: 'slot-006',
      status: 'failed_provider',
      finishedAt: at(1),
    });
    await insertJob(app.databaseUrl, { slotId: 'slot-006', source: 'ui_test', finishedAt: at(1) });
    const soon = await insertJob(app.databaseUrl, {
      slotId: 'slot-006',
      finishedAt: at(2),
      resultExpiresAt: new Date(now.getTime() + HOUR),
    });

    const before = (await get('slot-006')).body.recent_results;
    expect(before.map((result: any) => result.job_id)).toEqual([
      soon.id,
      ...kept.slice(0, 9).map((job) => job.id),
    ]);
    expect(before[1]).toEqual({
      job_id: kept[0].id,
      result_url: `${BASE}/public/results/${kept[0].id}`,
      preview_url: `${BASE}/public/results/${kept[0].id}/preview`,
      finished_at: at(3).toISOString(),
      expires_at: kept[0].resultExpiresAt!.toISOString(),
      mime_type: 'image/jpeg',
    });

    app.clock.advance(2 * HOUR);
    const after = (await get('slot-006')).body.recent_results;
    expect(after.map((result: any) => result.job_id)).toEqual(
      kept.slice(0, 10).map((job) => job.id),
    );
  });
});
