import { SettingsService } from '../src/settings/settings.service';
import { sql } from './support/database';
import { TestApp } from './support/test-app';

const INGEST_PASSWORD = 'booth-ingest-password-7f3a';
const GEMINI_KEY = 'AIzaStoredGeminiKey-9c1d7e';
const TURBOTEXT_KEY = 'tt-stored-turbotext-key-5b2e';

// Each numeric setting by its dotted path, with its range (SPEC §6).
const RANGES: Array<[path: string, min: number, max: number]> = [
  ['sync_response_seconds', 10, 60],
  ['result_ttl_hours', 1, 168],
  ['max_upload_mb', 1, 50],
  ['max_input_megapixels', 1, 100],
  ['slot_concurrency', 1, 50],
  ['provider_concurrency.gemini', 1, 200],
  ['provider_concurrency.turbotext', 1, 200],
  ['provider_max_edge_px', 512, 4096],
];

/** `{"a.b": 1}` → `{"a": {"b": 1}}`, the shape the API takes. */
function body(path: string, value: unknown): Record<string, unknown> {
  const [head, tail] = path.split('.') as [string, string | undefined];
  return tail ? { [head]: { [tail]: value } } : { [head]: value };
}

function read(settings: Record<string, any>, path: string): unknown {
  return path.split('.').reduce<any>((node, part) => node?.[part], settings);
}

describe('settings API', () => {
  let app: TestApp;
  let token: string;
  const get = () => app.request('GET', '/api/settings', { token });
  const put = (json: unknown) => app.request('PUT', '/api/settings', { token, json });

  beforeAll(async () => {
    app = await TestApp.start({ env: { RESULT_TTL_HOURS: '24' } });
    token = await app.login();
  });
  afterAll(() => app.close());

  it('refuses anonymous reads and writes', async () => {
    expect((await app.request('GET', '/api/settings')).status).toBe(401);
    const write = await app.request('PUT', '/api/settings', { json: { max_upload_mb: 20 } });
    expect(write.status).toBe(401);
    expect((await get()).body.max_upload_mb).toBe(15);
  });

  it('starts from the defaults, the result TTL from RESULT_TTL_HOURS', async () => {
    const response = await get();
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      sync_response_seconds: 48,
      result_ttl_hours: 24,
      max_upload_mb: 15,
      max_input_megapixels: 50,
      slot_concurrency: 4,
      provider_concurrency: { gemini: 16, turbotext: 8 },
      provider_max_edge_px: 2048,
      version: 1,
      ingest_password_set: false,
      ingest_password_rotated_at: null,
      ingest_password_rotated_by: null,
      provider_keys: {
        gemini: { configured: false, updated_at: null },
        turbotext: { configured: false, updated_at: null },
      },
    });
  });

  it.each(RANGES)('%s: refuses %d−1 and %d+1, accepts both edges', async (path, min, max) => {
    for (const value of [min - 1, max + 1]) {
      const response = await put(body(path, value));
      expect(response.status).toBe(422);
      expect(response.body.failure_reason).toBe('validation_failed');
      expect(Object.keys(response.body.errors)).toEqual([path]);
    }
    for (const value of [min, max]) {
      const response = await put(body(path, value));
      expect(response.status).toBe(200);
      expect(read(response.body, path)).toBe(value);
    }
  });

  it('refuses wrong types, nulls and unknown fields with dotted paths, changing nothing', async () => {
    const before = (await get()).body;
    const response = await put({
      sync_response_seconds: '30',
      max_upload_mb: 2.5,
      slot_concurrency: null,
      provider_concurrency: { gemini: true, openai: 3 },
      ingest_password: 'short',
      provider_keys: { gemini: 'has spaces' },
      debug: true,
    });
    expect(response.status).toBe(422);
    expect(Object.keys(response.body.errors).sort()).toEqual([
      'debug',
      'ingest_password',
      'max_upload_mb',
      'provider_concurrency.gemini',
      'provider_concurrency.openai',
      'provider_keys.gemini',
      'slot_concurrency',
      'sync_response_seconds',
    ]);
    expect((await get()).body).toEqual(before);
  });

  it('applies a partial update and bumps the version by one per save', async () => {
    const before = (await get()).body;
    const response = await put({ sync_response_seconds: 30, provider_concurrency: { gemini: 20 } });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      ...before,
      sync_response_seconds: 30,
      provider_concurrency: { ...before.provider_concurrency, gemini: 20 },
      version: before.version + 1,
    });
    expect((await get()).body).toEqual(response.body);
  });

  it('refuses a stale version with 409 and accepts the current one', async () => {
    const { version } = (await get()).body;
    expect((await put({ max_upload_mb: 21, version })).status).toBe(200);
    const stale = await put({ max_upload_mb: 22, version });
    expect(stale.status).toBe(409);
    expect(stale.body.failure_reason).toBe('version_conflict');
    const current = (await get()).body;
    expect(current).toMatchObject({ max_upload_mb: 21, version: version + 1 });
  });

  it('loses no update when saves race', async () => {
    const { version } = (await get()).body;
    const changes = [
      { max_upload_mb: 11 },
      { max_input_megapixels: 12 },
      { slot_concurrency: 13 },
      { provider_max_edge_px: 1400 },
      { provider_concurrency: { turbotext: 15 } },
    ];
    const responses = await Promise.all(changes.map((change) => put(change)));
    expect(responses.map((response) => response.status)).toEqual(changes.map(() => 200));
    expect((await get()).body).toMatchObject({
      max_upload_mb: 11,
      max_input_megapixels: 12,
      slot_concurrency: 13,
      provider_max_edge_px: 1400,
      provider_concurrency: { turbotext: 15 },
      version: version + changes.length,
    });
  });

  it('keeps the ingest password only as a salted hash and reports its rotation', async () => {
    const response = await put({ ingest_password: INGEST_PASSWORD });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      ingest_password_set: true,
      ingest_password_rotated_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      ingest_password_rotated_by: 'serg',
    });
    expect(JSON.stringify(response.body)).not.toContain(INGEST_PASSWORD);
    const service = app.app.get(SettingsService);
    await expect(service.verifyIngestPassword(INGEST_PASSWORD)).resolves.toBe('ok');
    await expect(service.verifyIngestPassword(`${INGEST_PASSWORD}x`)).resolves.toBe('wrong');
  });

  it('keeps provider keys encrypted, never returns them, and deletes one on null', async () => {
    const set = await put({ provider_keys: { gemini: GEMINI_KEY, turbotext: TURBOTEXT_KEY } });
    expect(set.status).toBe(200);
    expect(set.body.provider_keys.gemini).toEqual({
      configured: true,
      updated_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    const service = app.app.get(SettingsService);
    await expect(service.getProviderApiKey('gemini')).resolves.toBe(GEMINI_KEY);

    const deleted = await put({ provider_keys: { gemini: null } });
    expect(deleted.body.provider_keys).toEqual({
      gemini: { configured: false, updated_at: null },
      turbotext: set.body.provider_keys.turbotext,
    });
    await expect(service.getProviderApiKey('gemini')).resolves.toBeUndefined();
    await expect(service.getProviderApiKey('turbotext')).resolves.toBe(TURBOTEXT_KEY);
    for (const response of [set, deleted, await get()]) {
      expect(JSON.stringify(response.body)).not.toContain(GEMINI_KEY);
      expect(JSON.stringify(response.body)).not.toContain(TURBOTEXT_KEY);
    }
  });

  it('stores no secret in clear and audits every change with secrets masked', async () => {
    const rows = await sql(app.databaseUrl, 'SELECT key, value::text AS value FROM app_settings');
    const audit = await sql<{ actor: string; old_value: any; new_value: any }>(
      app.databaseUrl,
      "SELECT actor, old_value, new_value FROM audit_log WHERE entity_type = 'settings' ORDER BY id",
    );
    const stored = JSON.stringify(rows) + JSON.stringify(audit);
    for (const secret of [INGEST_PASSWORD, GEMINI_KEY, TURBOTEXT_KEY]) {
      expect(stored).not.toContain(secret);
    }
    expect(rows.find((row) => row.key === 'ingest_password')?.value).toContain('scrypt$');

    const changes = audit.map((row) => row.new_value);
    expect(audit.every((row) => row.actor === 'serg')).toBe(true);
    expect(changes).toContainEqual(
      expect.objectContaining({ sync_response_seconds: 30, 'provider_concurrency.gemini': 20 }),
    );
    expect(audit).toContainEqual(
      expect.objectContaining({
        old_value: expect.objectContaining({ ingest_password: null }),
        new_value: expect.objectContaining({ ingest_password: '[changed]' }),
      }),
    );
    expect(changes).toContainEqual(
      expect.objectContaining({
        'provider_keys.gemini': '[set]',
        'provider_keys.turbotext': '[set]',
      }),
    );
    expect(changes).toContainEqual(
      expect.objectContaining({ 'provider_keys.gemini': '[deleted]' }),
    );
  });

  it('writes no secret to the logs', () => {
    const logs = app.rawLogs.join('\n');
    expect(logs).toContain('settings.updated');
    for (const secret of [INGEST_PASSWORD, GEMINI_KEY, TURBOTEXT_KEY]) {
      expect(logs).not.toContain(secret);
    }
  });

  it('shares every change with another instance on the same database', async () => {
    const other = await TestApp.start({ databaseUrl: app.databaseUrl, dataDir: app.dataDir });
    try {
      const otherService = other.app.get(SettingsService);
      await expect(otherService.getProviderApiKey('turbotext')).resolves.toBe(TURBOTEXT_KEY);
      const saved = await other.request('PUT', '/api/settings', {
        token: await other.login('igor'),
        json: { slot_concurrency: 7 },
      });
      expect(saved.status).toBe(200);
      const runtime = await app.app.get(SettingsService).getRuntimeSettings();
      expect(runtime).toMatchObject({ slotConcurrency: 7, version: saved.body.version });
    } finally {
      await other.close(true);
    }
  });
});

describe('settings API with keys in the environment', () => {
  let app: TestApp;
  const ENV_KEY = 'AIzaEnvironmentGeminiKey-41f0';

  beforeAll(async () => {
    app = await TestApp.start({ env: { GEMINI_API_KEY: ENV_KEY } });
  });
  afterAll(() => app.close());

  it('reports an environment key as configured and prefers a stored one', async () => {
    const token = await app.login();
    const service = app.app.get(SettingsService);
    const initial = await app.request('GET', '/api/settings', { token });
    expect(initial.body.provider_keys).toEqual({
      gemini: { configured: true, updated_at: null },
      turbotext: { configured: false, updated_at: null },
    });
    await expect(service.getProviderApiKey('gemini')).resolves.toBe(ENV_KEY);

    const json = { provider_keys: { gemini: GEMINI_KEY } };
    await app.request('PUT', '/api/settings', { token, json });
    await expect(service.getProviderApiKey('gemini')).resolves.toBe(GEMINI_KEY);
    const json2 = { provider_keys: { gemini: null } };
    const cleared = await app.request('PUT', '/api/settings', { token, json: json2 });
    expect(cleared.body.provider_keys.gemini).toEqual({ configured: true, updated_at: null });
    await expect(service.getProviderApiKey('gemini')).resolves.toBe(ENV_KEY);
    expect(JSON.stringify(cleared.body)).not.toContain(ENV_KEY);
  });
});
