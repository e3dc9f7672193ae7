// SPEC §6 ops routes: /healthz (readiness: database, media folders, free disk; providers reported,
// never fatal; the version) and /healthz/live (liveness). Both public.
import { readFileSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { Client } from 'pg';
import { testServerUrl } from './support/database';
import { waitFor } from './support/ingest-setup';
import { TestApp } from './support/test-app';

const VERSION = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;

/** Runs SQL as the test server's superuser, on the maintenance database. */
async function admin(statement: string, params: unknown[] = []): Promise<void> {
  const client = new Client({ connectionString: testServerUrl() });
  await client.connect();
  try {
    await client.query(statement, params);
  } finally {
    await client.end();
  }
}

function databaseName(app: TestApp): string {
  return new URL(app.databaseUrl).pathname.slice(1);
}

describe('health routes (SPEC §6)', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await TestApp.start({ env: { GEMINI_API_KEY: 'health-test-gemini-key' } });
  });

  afterAll(() => app?.close());

  it('GET /healthz answers 200 with the database, media, disk and providers, and the version', async () => {
    const response = await app.request('GET', '/healthz');

    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toMatch(/no-store/);
    const up = {
      database: { status: 'up' },
      media: { status: 'up', folders: ['MEDIA_ROOT', 'MEDIA_ROOT/tmp'] },
      disk: { status: 'up', free_mb: expect.any(Number), min_free_mb: 500 },
      providers: {
        status: 'up',
        gemini: { configured: true },
        turbotext: { configured: false },
      },
    };
    expect(response.body).toEqual({
      status: 'ok',
      version: VERSION,
      info: up,
      error: {},
      details: up,
    });
    expect(response.body.info.disk.free_mb).toBeGreaterThanOrEqual(500);
  });

  it('leaves no probe file behind in the media folders', async () => {
    await app.request('GET', '/healthz');
    const leftovers = [
      ...(await readdir(app.config.mediaRoot)),
      ...(await readdir(path.join(app.config.mediaRoot, 'tmp'))),
    ].filter((name) => name.startsWith('.healthz'));
    expect(leftovers).toEqual([]);
  });

  it('GET /healthz/live answers 200 {"status":"ok"}', async () => {
    const response = await app.request('GET', '/healthz/live');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 'ok' });
  });

  it('needs no token, and an invalid one does not matter', async () => {
    for (const route of ['/healthz', '/healthz/live']) {
      const response = await app.request('GET', route, { token: 'not-a-jwt' });
      expect(response.status).toBe(200);
    }
  });

  it('answers 503 naming MEDIA_ROOT/tmp when it cannot be written, and 200 again once it can', async () => {
    const tmp = path.join(app.config.mediaRoot, 'tmp');
    await rm(tmp, { recursive: true, force: true });
    await writeFile(tmp, 'a file where the folder should be');
    try {
      const response = await app.request('GET', '/healthz');
      expect(response.status).toBe(503);
      expect(response.body.status).toBe('error');
      expect(response.body.error).toEqual({
        media: {
          status: 'down',
          message: expect.stringMatching(/^MEDIA_ROOT\/tmp is not writable \(E[A-Z]+\)$/),
        },
      });
      // A public answer: the absolute path stays out of it.
      expect(JSON.stringify(response.body)).not.toContain(app.config.mediaRoot);
    } finally {
      await rm(tmp, { force: true });
      await mkdir(tmp);
    }
    expect((await app.request('GET', '/healthz')).status).toBe(200);
  });

  describe('with MIN_FREE_DISK_MB above the free space', () => {
    let full: TestApp;

    beforeAll(async () => {
      full = await TestApp.start({ env: { MIN_FREE_DISK_MB: '10000000' } });
    });

    afterAll(() => full?.close());

    it('answers 503 with the disk check down and the other checks up', async () => {
      const response = await full.request('GET', '/healthz');

      expect(response.status).toBe(503);
      expect(response.body).toEqual({
        status: 'error',
        version: VERSION,
        info: {
          database: { status: 'up' },
          media: { status: 'up', folders: ['MEDIA_ROOT', 'MEDIA_ROOT/tmp'] },
          providers: {
            status: 'up',
            gemini: { configured: false },
            turbotext: { configured: false },
          },
        },
        error: {
          disk: {
            status: 'down',
            free_mb: expect.any(Number),
            min_free_mb: 10_000_000,
            message: expect.stringMatching(/MB free under MEDIA_ROOT; ingest needs at least/),
          },
        },
        details: expect.objectContaining({ disk: expect.objectContaining({ status: 'down' }) }),
      });
    });

    it('is still alive', async () => {
      expect((await full.request('GET', '/healthz/live')).status).toBe(200);
    });

    it('logs the loss of readiness once, not on every probe', async () => {
      await full.request('GET', '/healthz');
      await full.request('GET', '/healthz');
      const lost = full.logs.filter((line) => line.event === 'health.not_ready');
      expect(lost).toEqual([expect.objectContaining({ level: 'warn', failing: 'disk' })]);
    });
  });

  describe('when the database stops accepting connections', () => {
    let cut: TestApp;

    beforeAll(async () => {
      cut = await TestApp.start();
      expect((await cut.request('GET', '/healthz')).status).toBe(200);
      // Works for a superuser too (unlike REVOKE CONNECT), and can be undone to see recovery.
      await admin(`ALTER DATABASE ${databaseName(cut)} ALLOW_CONNECTIONS false`);
      await admin(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
        [databaseName(cut)],
      );
    });

    afterAll(async () => {
      await admin(`ALTER DATABASE ${databaseName(cut)} ALLOW_CONNECTIONS true`).catch(
        () => undefined,
      );
      await cut?.close();
    });

    it('answers 503 with the database down and a hint; providers stay reported, not fatal', async () => {
      const response = await cut.request('GET', '/healthz');

      expect(response.status).toBe(503);
      expect(response.body.status).toBe('error');
      expect(response.body.version).toBe(VERSION);
      expect(response.body.error).toEqual({
        database: { status: 'down', message: expect.stringMatching(/PostgreSQL/) },
      });
      expect(response.body.info).toEqual({
        media: expect.objectContaining({ status: 'up' }),
        disk: expect.objectContaining({ status: 'up' }),
        providers: { status: 'up', message: 'Provider keys could not be read' },
      });
    });

    it('stays alive', async () => {
      expect((await cut.request('GET', '/healthz/live')).status).toBe(200);
    });

    it('is ready again once the database is back, and logs both transitions', async () => {
      await admin(`ALTER DATABASE ${databaseName(cut)} ALLOW_CONNECTIONS true`);
      await waitFor(
        '/healthz to answer 200',
        async () => (await cut.request('GET', '/healthz')).status === 200,
        10_000,
      );
      const transitions = cut.logs
        .filter((line) => String(line.event).startsWith('health.'))
        .map((line) => [line.event, line.failing]);
      expect(transitions).toEqual([
        ['health.not_ready', 'database'],
        ['health.ready', undefined],
      ]);
    });
  });
});
