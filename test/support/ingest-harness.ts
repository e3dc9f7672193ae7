// Shared set-up for the ingest pipeline specs: a password, Gemini slots, and raw job rows.
import { existsSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import * as path from 'node:path';
import { boothPost, BoothResponse, dslrFields, multipart } from './booth';
import { sql } from './database';
import { FakeClock } from './fake-clock';
import { INGEST_PASSWORD, saveSettings, saveSlot } from './ingest-setup';
import type { TestApp } from './test-app';

export { INGEST_PASSWORD };

/**
 * A FakeClock that runs at real speed from the real time, and can still be moved forward: job
 * durations stay meaningful while TTL rules can be crossed without waiting.
 */
export class RunningClock extends FakeClock {
  private offsetMs = 0;

  override now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  override set(date: Date): void {
    this.offsetMs = date.getTime() - Date.now();
  }

  override advance(ms: number): void {
    this.offsetMs += ms;
  }
}

/** Sets the ingest password (and a Gemini key when given) and returns an admin token. */
export async function configureIngest(
  app: TestApp,
  options: { geminiKey?: string; settings?: Record<string, unknown> } = {},
): Promise<string> {
  const token = await app.login();
  await saveSettings(app, token, {
    ingest_password: INGEST_PASSWORD,
    ...(options.geminiKey ? { provider_keys: { gemini: options.geminiKey } } : {}),
    ...options.settings,
  });
  return token;
}

/** Changes runtime settings (`sync_response_seconds`, `result_ttl_hours`, …). */
export async function updateSettings(
  app: TestApp,
  token: string,
  settings: Record<string, unknown>,
): Promise<void> {
  await saveSettings(app, token, settings);
}

/** Makes `slotId` an active Gemini `image_edit` slot with these settings. */
export async function configureGeminiSlot(
  app: TestApp,
  token: string,
  slotId: string,
  settings: Record<string, unknown> = {},
): Promise<void> {
  await saveSlot(app, token, slotId, {
    display_name: `Booth ${slotId}`,
    settings: { prompt: 'Put them on a beach at sunset', ...settings },
  });
}

/** One shot from the booth: a new `time`/`id` each time, so never an exact retry. */
export function shoot(app: TestApp, slotId: string, photo: Buffer): Promise<BoothResponse> {
  return boothPost(`${app.url}/ingest/${slotId}`, {
    fields: { ...dslrFields(), password: INGEST_PASSWORD },
    file: { bytes: photo },
  });
}

/** A shot with the times it was sent and answered, for checking deadlines. */
export interface TimedShot {
  sentAt: number;
  answeredAt: number;
  response: BoothResponse;
}

/** Starts a shot now; a rejection is left for whoever awaits it, never unhandled. */
export function timedShot(app: TestApp, slotId: string, photo: Buffer): Promise<TimedShot> {
  const sentAt = Date.now();
  const shot = shoot(app, slotId, photo).then((response) => ({
    sentAt,
    answeredAt: Date.now(),
    response,
  }));
  shot.catch(() => undefined);
  return shot;
}

/**
 * Sends a whole shot without waiting for the answer and returns a way to hang up, as a booth
 * that gives up (or crashes) while the server is still working.
 */
export function shootAndHangUp(
  app: TestApp,
  slotId: string,
  photo: Buffer,
): { hangUp(): void; closed: Promise<void>; answeredStatus(): number | undefined } {
  const { body, contentType } = multipart({
    fields: { ...dslrFields(), password: INGEST_PASSWORD },
    file: { bytes: photo },
  });
  const request = httpRequest(`${app.url}/ingest/${slotId}`, {
    method: 'POST',
    headers: { 'content-type': contentType, 'content-length': String(body.length) },
  });
  let status: number | undefined;
  request.on('error', () => undefined);
  request.on('response', (response) => {
    status = response.statusCode;
    response.resume();
  });
  const closed = new Promise<void>((resolve) => request.on('close', () => resolve()));
  request.end(body);
  return { hangUp: () => request.destroy(), closed, answeredStatus: () => status };
}

/** A `job` row as stored, snake_case, read behind the API's back. */
export interface RawJob {
  id: string;
  slot_id: string;
  status: string;
  failure_reason: string | null;
  model: string | null;
  started_at: Date;
  deadline_at: Date;
  finished_at: Date | null;
  duration_ms: number | null;
  provider_duration_ms: number | null;
  provider_finish_reason: string | null;
  provider_message: string | null;
  provider_job_reference: string | null;
  result_path: string | null;
  result_mime_type: string | null;
  result_size_bytes: string | null;
  result_checksum: string | null;
  result_width: number | null;
  result_height: number | null;
  result_expires_at: Date | null;
  client_fields: Record<string, string>;
  usage: Record<string, unknown> | null;
}

export async function jobRow(app: TestApp, id: string): Promise<RawJob> {
  const [row] = await sql<RawJob & Record<string, unknown>>(
    app.databaseUrl,
    'SELECT * FROM job WHERE id = $1',
    [id],
  );
  if (!row) throw new Error(`no job ${id}`);
  return row;
}

/**
 * The booth's error answer, then the job it names: final with that outcome, its duration
 * consistent, finished by its deadline (plus `graceMs` for faults that end at it), no result kept,
 * and the job API saying the same.
 */
export async function expectFailedJob(
  app: TestApp,
  response: BoothResponse,
  expected: { http: number; reason: string; status: string; graceMs?: number },
): Promise<RawJob> {
  expect({ status: response.status, body: response.json }).toEqual({
    status: expected.http,
    body: {
      status: 'error',
      failure_reason: expected.reason,
      message: expect.any(String),
      job_id: expect.any(String),
    },
  });
  const row = await jobRow(app, response.json.job_id);
  expect(row).toMatchObject({
    status: expected.status,
    failure_reason: expected.reason,
    result_path: null,
    result_expires_at: null,
  });
  expect(row.finished_at).toBeInstanceOf(Date);
  expect(row.duration_ms).toBe(row.finished_at!.getTime() - row.started_at.getTime());
  expect(row.duration_ms).toBeGreaterThanOrEqual(0);
  expect(row.finished_at!.getTime()).toBeLessThanOrEqual(
    row.deadline_at.getTime() + (expected.graceMs ?? 0),
  );
  expect(hasResultFiles(app, row.slot_id, row.id)).toBe(false);
  const status = await app.request('GET', `/api/jobs/${row.id}`);
  expect(status.body).toMatchObject({ status: expected.status, result_url: null });
  return row;
}

/** The ids of a slot's jobs still `pending`/`processing`. */
export async function runningJobIds(app: TestApp, slotId: string): Promise<string[]> {
  const rows = await sql<{ id: string }>(
    app.databaseUrl,
    `SELECT id FROM job WHERE slot_id = $1 AND status IN ('pending', 'processing')`,
    [slotId],
  );
  return rows.map((row) => row.id);
}

/** Where a job's result files would be (SPEC §2: MEDIA_ROOT/results/{slot}/{job}/). */
export function resultFolder(app: TestApp, slotId: string, jobId: string): string {
  return path.join(app.config.mediaRoot, 'results', slotId, jobId);
}

export function hasResultFiles(app: TestApp, slotId: string, jobId: string): boolean {
  return existsSync(resultFolder(app, slotId, jobId));
}

/** Polls `probe` until it returns something other than undefined. */
export async function waitFor<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 5_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
