import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { insertJob } from './factories';
import { FakeGemini } from './fakes/fake-gemini';
import { sql } from './support/database';
import {
  configureGeminiSlot,
  configureIngest,
  hasResultFiles,
  resultFolder,
  RunningClock,
  shoot,
  waitFor,
} from './support/ingest-harness';
import { jpeg } from './support/images';
import { TestApp } from './support/test-app';

const HOUR = 3_600_000;
const run = promisify(execFile);

describe('cleanup', () => {
  let gemini: FakeGemini;
  let app: TestApp;
  let token: string;
  let photo: Buffer;

  beforeAll(async () => {
    gemini = await FakeGemini.start();
    photo = await jpeg(640, 480);
  });

  beforeEach(async () => {
    app = await TestApp.start({
      env: { GEMINI_BASE_URL: gemini.baseUrl, GEMINI_API_KEY: 'cleanup-gemini-key' },
      clock: new RunningClock(),
    });
    token = await configureIngest(app);
    await configureGeminiSlot(app, token, 'slot-001');
    await configureGeminiSlot(app, token, 'slot-002');
  });

  afterEach(() => app.close());
  afterAll(() => gemini.close());

  async function shot(slotId: string): Promise<string> {
    const response = await shoot(app, slotId, photo);
    expect(response.status).toBe(200);
    return String(response.headers['x-job-id']);
  }

  it("deletes one slot's expired results now, keeping the rows and the other slots' files", async () => {
    const expiredA = await shot('slot-001');
    const expiredB = await shot('slot-001');
    const otherSlot = await shot('slot-002');
    app.clock.advance(72 * HOUR + 1000);
    token = await app.login(); // the old token expired with the clock
    const fresh = await shot('slot-001');

    const response = await app.request('POST', '/api/slots/slot-001/cleanup', { token });
    expect(response.status).toBe(200);
    expect(response.body.ran).toBe(true);
    expect(response.body.expired_results.files).toBe(4); // payload + preview, twice
    expect(response.body.expired_results.bytes).toBeGreaterThan(0);

    expect(hasResultFiles(app, 'slot-001', expiredA)).toBe(false);
    expect(hasResultFiles(app, 'slot-001', expiredB)).toBe(false);
    expect(hasResultFiles(app, 'slot-001', fresh)).toBe(true);
    expect(hasResultFiles(app, 'slot-002', otherSlot)).toBe(true);

    const [row] = await sql(app.databaseUrl, 'SELECT * FROM job WHERE id = $1', [expiredA]);
    expect(row).toMatchObject({ status: 'completed' });
    expect(row.result_path).not.toBeNull();
    expect(row.result_checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(row.result_deleted_at).not.toBeNull();
    expect((await app.request('GET', `/public/results/${expiredA}`)).status).toBe(410);
    expect((await app.request('GET', `/public/results/${fresh}`)).status).toBe(200);

    expect((await app.request('POST', '/api/slots/slot-016/cleanup', { token })).status).toBe(404);
    expect((await app.request('POST', '/api/slots/slot-001/cleanup')).status).toBe(401);
  });

  it('purges in the background: expired results and links, orphans, stale temp files, never templates', async () => {
    const kept = await shot('slot-001');
    const root = app.config.mediaRoot;
    const anHourAgo = new Date(Date.now() - HOUR);
    const old = async (file: string, content = 'x'): Promise<string> => {
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, content);
      await utimes(file, anHourAgo, anHourAgo);
      return file;
    };

    // A folder no job points to, and a half-written file beside a kept result.
    const orphanFolder = path.join(
      root,
      'results',
      'slot-003',
      '6f1c2b1e-8c1d-4b7a-9f0e-1a2b3c4d5e6f',
    );
    await old(path.join(orphanFolder, 'payload.jpg'), 'orphan');
    await utimes(orphanFolder, anHourAgo, anHourAgo);
    const halfWritten = await old(
      path.join(resultFolder(app, 'slot-001', kept), '.payload.jpg.abc123.tmp'),
    );
    // An upload a crashed process left, and one in progress right now.
    const staleUpload = await old(path.join(root, 'tmp', 'upload-stale'));
    const liveUpload = path.join(root, 'tmp', 'upload-live');
    await writeFile(liveUpload, 'x');
    // A template: long-lived, never swept.
    const template = await app.request('POST', '/api/template-media/register', {
      token,
      body: form('file', await jpeg(300, 200)),
    });
    expect(template.status).toBe(201);
    // An expired temporary link, and a job left behind by a dead process.
    const link = await app.request('POST', '/api/media/register', {
      token,
      body: form('file', photo),
    });
    expect(link.status).toBe(201);
    const interrupted = await insertJob(app.databaseUrl, {
      slotId: 'slot-004',
      status: 'processing',
      startedAt: new Date(Date.now() - 10 * 60_000),
      deadlineAt: new Date(Date.now() - 2 * 60_000),
    });
    app.clock.advance(60_000);

    const response = await app.request('POST', '/api/media/cache/purge', { token });
    expect(response.status).toBe(202);
    expect(response.body).toEqual({ status: 'scheduled' });
    const report = await waitFor(
      () => Promise.resolve(app.logs.find((line) => line.event === 'cleanup.completed')),
      'the background cleanup',
      20_000,
    );

    expect(existsSync(orphanFolder)).toBe(false);
    expect(existsSync(halfWritten)).toBe(false);
    expect(existsSync(staleUpload)).toBe(false);
    expect(existsSync(liveUpload)).toBe(true);
    expect(hasResultFiles(app, 'slot-001', kept)).toBe(true);
    expect(
      (await app.request('GET', `/api/template-media/${template.body.id}/preview`, { token }))
        .status,
    ).toBe(200);
    expect((await app.request('GET', new URL(link.body.public_url).pathname)).status).toBe(410);
    const [media] = await sql(
      app.databaseUrl,
      'SELECT cleaned_at FROM media_object WHERE id = $1',
      [link.body.id],
    );
    expect(media.cleaned_at).not.toBeNull();
    const [job] = await sql(
      app.databaseUrl,
      'SELECT status, failure_reason FROM job WHERE id = $1',
      [interrupted.id],
    );
    expect(job).toEqual({ status: 'failed_internal', failure_reason: 'interrupted' });
    expect(report).toMatchObject({ ran: true, interrupted_jobs: 1, temp_files: 1 });
    expect(report.orphan_files).toBe(2);

    expect((await app.request('POST', '/api/media/cache/purge')).status).toBe(401);
  });

  it('deletes one guest result on request, with an audit entry', async () => {
    const jobId = await shot('slot-002');
    // Opened once before: a result read lately is not served from memory after its deletion.
    expect((await app.request('GET', `/public/results/${jobId}`)).status).toBe(200);
    expect((await app.request('DELETE', `/api/jobs/${jobId}/result`)).status).toBe(401);
    const response = await app.request('DELETE', `/api/jobs/${jobId}/result`, { token });
    expect(response.status).toBe(204);
    expect(hasResultFiles(app, 'slot-002', jobId)).toBe(false);
    expect((await app.request('GET', `/public/results/${jobId}`)).status).toBe(410);
    expect((await app.request('GET', `/api/jobs/${jobId}`)).body.result_url).toBeNull();

    const audit = await app.request('GET', '/api/audit?limit=5', { token });
    expect(audit.status).toBe(200);
    expect(audit.body[0]).toMatchObject({
      actor: 'serg',
      entity_type: 'job',
      entity_id: jobId,
      action: 'delete_result',
    });
    expect((await app.request('GET', '/api/audit?limit=500', { token })).status).toBe(422);
    expect((await app.request('GET', '/api/audit')).status).toBe(401);

    const unknown = await app.request(
      'DELETE',
      '/api/jobs/6f1c2b1e-8c1d-4b7a-9f0e-1a2b3c4d5e6f/result',
      { token },
    );
    expect(unknown.status).toBe(404);
    expect(unknown.body.failure_reason).toBe('job_not_found');
  });

  it('runs from `npm run cleanup` on the same database, for cron', async () => {
    const jobId = await shot('slot-001');
    await sql(
      app.databaseUrl,
      "UPDATE job SET result_expires_at = now() - interval '1 minute' WHERE id = $1",
      [jobId],
    );
    const { stdout } = await run(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', 'src/cli.ts', 'cleanup'],
      {
        env: {
          ...process.env,
          DATA_DIR: app.dataDir,
          DATABASE_URL: app.databaseUrl,
          LOG_LEVEL: 'error',
        },
      },
    );
    const report = JSON.parse(stdout);
    expect(report).toMatchObject({ ran: true, expired_results: { files: 2 } });
    expect(hasResultFiles(app, 'slot-001', jobId)).toBe(false);
  });
});

function form(field: string, bytes: Buffer): FormData {
  const data = new FormData();
  data.append(field, new Blob([bytes], { type: 'image/jpeg' }), 'photo.jpg');
  return data;
}
