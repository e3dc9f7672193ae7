// Configuring an app for ingest tests the way an admin would: settings and slots through the API.
import { readdir } from 'node:fs/promises';
import * as path from 'node:path';
import { FakeGemini } from '../fakes/fake-gemini';
import { sql } from './database';
import { ApiResponse, TestApp } from './test-app';

export const INGEST_PASSWORD = 'booth-password-1';
export const GEMINI_KEY = 'test-gemini-key';

export interface SlotBody {
  display_name?: string;
  provider?: string | null;
  operation?: string | null;
  is_active?: boolean;
  settings?: Record<string, unknown>;
  template_media?: Array<{ media_kind: string; template_media_id: string }>;
}

export interface IngestEnv {
  app: TestApp;
  gemini: FakeGemini;
  token: string;
}

/**
 * A fake Gemini and an app pointed at it, with the ingest password set. `env` adds to (or, with
 * an empty string, removes) the defaults: `GEMINI_API_KEY: ''` starts an app without a key.
 */
export async function startIngestApp(
  options: { env?: Record<string, string>; setPassword?: boolean } = {},
): Promise<IngestEnv> {
  const gemini = await FakeGemini.start();
  const env: Record<string, string> = {
    GEMINI_BASE_URL: gemini.baseUrl,
    GEMINI_API_KEY: GEMINI_KEY,
    ...options.env,
  };
  for (const [name, value] of Object.entries(env)) if (value === '') delete env[name];
  const app = await TestApp.start({ env });
  const token = await app.login();
  if (options.setPassword ?? true) {
    await saveSettings(app, token, { ingest_password: INGEST_PASSWORD });
  }
  return { app, gemini, token };
}

export async function stopIngestApp(env: IngestEnv | undefined): Promise<void> {
  await env?.app.close();
  await env?.gemini.close();
}

/** `PUT /api/settings`; throws unless the admin's change was accepted. */
export async function saveSettings(
  app: TestApp,
  token: string,
  json: Record<string, unknown>,
): Promise<ApiResponse> {
  const response = await app.request('PUT', '/api/settings', { token, json });
  if (response.status !== 200) {
    throw new Error(`PUT /api/settings: ${response.status} ${JSON.stringify(response.body)}`);
  }
  return response;
}

/** The slot used by most tests: an active Gemini image edit. */
export function geminiSlot(overrides: SlotBody = {}): Required<SlotBody> {
  return {
    display_name: 'Beach',
    provider: 'gemini',
    operation: 'image_edit',
    is_active: true,
    settings: { prompt: 'Put them on a sunny beach' },
    template_media: [],
    ...overrides,
  };
}

/**
 * `PUT /api/slots/{id}` on top of the slot's current version (a full replacement, as the admin
 * console saves it); returns the new version.
 */
export async function saveSlot(
  app: TestApp,
  token: string,
  slotId: string,
  body: SlotBody = {},
): Promise<number> {
  const current = await app.request('GET', `/api/slots/${slotId}`, { token });
  const response = await app.request('PUT', `/api/slots/${slotId}`, {
    token,
    json: { ...geminiSlot(body), version: current.body.version },
  });
  if (response.status !== 200) {
    throw new Error(
      `PUT /api/slots/${slotId}: ${response.status} ${JSON.stringify(response.body)}`,
    );
  }
  return response.body.version as number;
}

export async function jobCount(app: TestApp): Promise<number> {
  const [row] = await sql<{ count: number }>(
    app.databaseUrl,
    'SELECT count(*)::int AS count FROM job',
  );
  return row?.count ?? 0;
}

export async function jobRow(app: TestApp, id: string): Promise<Record<string, any>> {
  const [row] = await sql(app.databaseUrl, 'SELECT * FROM job WHERE id = $1', [id]);
  if (!row) throw new Error(`no job ${id}`);
  return row;
}

/** Files under MEDIA_ROOT/tmp, where uploads stream before they are checked. */
export async function tempFiles(app: TestApp): Promise<string[]> {
  try {
    return await readdir(path.join(app.config.mediaRoot, 'tmp'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** Polls `check` until it holds; fails with `what` after `timeoutMs`. */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5_000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Lets the server run for a while, to show that something does NOT happen meanwhile. */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
