import { Client } from 'pg';
import { insertJob, insertTemplateMedia } from './factories';
import { sql } from './support/database';
import { TestApp } from './support/test-app';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const DAY = 24 * 60 * MINUTE;
const MIB = 1024 * 1024;
const SLOT_IDS = Array.from({ length: 15 }, (_, i) => `slot-${String(i + 1).padStart(3, '0')}`);

describe('stats API', () => {
  let app: TestApp;
  let token: string;
  let nextRegion: number;

  beforeAll(async () => {
    app = await TestApp.start();
    token = await app.login();
    // Tokens expire by the injected clock: every test works in the past of the login.
    nextRegion = app.clock.now().getTime() - 400 * DAY;
  });

  afterAll(async () => {
    await app.close();
  });

  /**
   * Moves the clock to a period no other test uses: windows (3 days at most) never overlap and
   * jobs a previous test left running are past their deadline.
   */
  function freshPeriod(): Date {
    nextRegion += 10 * DAY;
    app.clock.set(new Date(nextRegion));
    return app.clock.now();
  }

  const ago = (now: Date, ms: number) => new Date(now.getTime() - ms);
  const get = (route: string) => app.request('GET', route, { token });
  const overview = async (windowMinutes = 60) => {
    const response = await get(`/api/stats/overview?window_minutes=${windowMinutes}`);
    expect(response.status).toBe(200);
    return response.body;
  };
  const slotOf = (body: any, slotId: string) => body.slots.find((s: any) => s.slot_id === slotId);
  const sum = (buckets: any[], key: string) =>
    buckets.reduce((total: number, bucket: any) => total + bucket[key], 0);

  it('refuses anonymous calls', async () => {
    for (const route of ['/api/stats/overview', '/api/stats/global', '/api/stats/slot-001']) {
      const response = await app.request('GET', route);
      expect(response.status).toBe(401);
      expect(response.body.failure_reason).toBe('unauthorized');
    }
  });

  it('counts booth jobs whose start lies in [now − window, now] by the injected clock', async () => {
    const now = freshPeriod();
    const slotId = 'slot-002';
    await insertJob(app.databaseUrl, { slotId, startedAt: ago(now, 60 * MINUTE) });
    await insertJob(app.databaseUrl, { slotId, startedAt: ago(now, 60 * MINUTE + 1) });
    await insertJob(app.databaseUrl, { slotId, startedAt: now });
    await insertJob(app.databaseUrl, { slotId, startedAt: new Date(now.getTime() + SECOND) });

    let body = await overview(60);
    expect(body.window_minutes).toBe(60);
    expect(body.system.jobs_last_window).toBe(2);
    expect(slotOf(body, slotId).jobs_last_window).toBe(2);

    app.clock.advance(1); // the job at the window's start drops out
    body = await overview(60);
    expect(body.system.jobs_last_window).toBe(1);

    app.clock.set(new Date(now.getTime() + SECOND)); // the "future" job is now in
    body = await overview(60);
    expect(body.system.jobs_last_window).toBe(2);

    // A wider window reaches the job a millisecond older than the hour.
    body = await overview(61);
    expect(body.system.jobs_last_window).toBe(4);
  });

  it('keeps test-runs out of the booth figures and reports them apart', async () => {
    const now = freshPeriod();
    const slotId = 'slot-004';
    const before = await overview(60);
    await insertJob(app.databaseUrl, { slotId, startedAt: ago(now, 5 * MINUTE) });
    await insertJob(app.databaseUrl, {
      slotId,
      source: 'ui_test',
      startedAt: ago(now, 4 * MINUTE),
    });
    await insertJob(app.databaseUrl, {
      slotId,
      source: 'ui_test',
      status: 'failed_timeout',
      failureReason: 'timeout',
      startedAt: ago(now, 3 * MINUTE),
    });

    const body = await overview(60);

    expect(body.system).toMatchObject({
      jobs_last_window: 1,
      timeouts_last_window: 0,
      test_runs_last_window: 2,
      jobs_total: before.system.jobs_total + 1,
    });
    const slot = slotOf(body, slotId);
    expect(slot).toMatchObject({
      jobs_last_window: 1,
      timeouts_last_window: 0,
      test_runs_last_window: 2,
      jobs_total: 1,
      success_rate: 1,
      last_error_reason: null,
      last_error_at: null,
    });
    // The latest success shown is the booth's, not the later test-run's.
    expect(slot.last_success_at).toBe(
      new Date(ago(now, 5 * MINUTE).getTime() + 5000).toISOString(),
    );
    expect(sum(body.series.buckets, 'jobs')).toBe(1);
  });

  it('counts timeouts and provider errors, and derives rates and p95 from finished jobs', async () => {
    const now = freshPeriod();
    const slotId = 'slot-005';
    // 21 completed jobs of 1 s … 21 s: percentile_cont(0.95) falls exactly on the 20th, 20 s.
    for (let i = 1; i <= 21; i++) {
      await insertJob(app.databaseUrl, {
        slotId,
        startedAt: ago(now, i * MINUTE),
        durationMs: i * SECOND,
      });
    }
    const failures = [
      ['failed_timeout', 'timeout'],
      ['failed_timeout', 'timeout'],
      ['failed_provider', 'provider_error'],
      ['failed_internal', 'internal'],
    ] as const;
    for (const [status, failureReason] of failures) {
      // Slow, but not completed: they must not move the p95.
      await insertJob(app.databaseUrl, {
        slotId,
        status,
        failureReason,
        startedAt: ago(now, 30 * MINUTE),
        durationMs: 48 * SECOND,
      });
    }
    // Still running: in the window and in flight, but not yet a success or a failure.
    await insertJob(app.databaseUrl, {
      slotId,
      status: 'processing',
      startedAt: ago(now, 10 * SECOND),
    });
    // Past its deadline and not yet finalised: its process died, it is not in flight.
    await insertJob(app.databaseUrl, { slotId, status: 'processing', startedAt: ago(now, MINUTE) });

    const body = await overview(60);

    expect(body.system).toMatchObject({
      jobs_last_window: 27,
      timeouts_last_window: 2,
      provider_errors_last_window: 1,
      success_rate_last_window: 0.84, // 21 / 25
      timeout_rate_last_window: 0.08, // 2 / 25
      p95_duration_ms_last_window: 20_000,
      jobs_in_flight: 1,
    });
    expect(slotOf(body, slotId)).toMatchObject({
      jobs_last_window: 27,
      timeouts_last_window: 2,
      provider_errors_last_window: 1,
      success_rate: 0.84,
      p95_duration_ms: 20_000,
    });
  });

  it('defines p95 as percentile_cont, interpolating between durations', async () => {
    const now = freshPeriod();
    const slotId = 'slot-006';
    await insertJob(app.databaseUrl, { slotId, startedAt: ago(now, MINUTE), durationMs: 1000 });
    await insertJob(app.databaseUrl, { slotId, startedAt: ago(now, MINUTE), durationMs: 2000 });

    const body = await overview(60);

    // percentile_disc would answer 2000.
    expect(body.system.p95_duration_ms_last_window).toBe(1950);
    expect(slotOf(body, slotId).p95_duration_ms).toBe(1950);
  });

  it('draws a series of 30 buckets from the window start that adds up to the totals', async () => {
    const now = freshPeriod();
    const from = ago(now, 60 * MINUTE).getTime();
    const slotId = 'slot-008';
    const at = (ms: number) => new Date(from + ms);
    await insertJob(app.databaseUrl, { slotId, startedAt: at(0) }); // bucket 0
    await insertJob(app.databaseUrl, {
      slotId,
      status: 'failed_timeout',
      failureReason: 'timeout',
      startedAt: at(2 * MINUTE - 1), // still bucket 0
    });
    await insertJob(app.databaseUrl, {
      slotId,
      status: 'failed_provider',
      startedAt: at(2 * MINUTE), // bucket 1
    });
    await insertJob(app.databaseUrl, { slotId, startedAt: now }); // the closed end: bucket 29
    await insertJob(app.databaseUrl, { slotId: 'slot-009', startedAt: at(31 * MINUTE) }); // 15

    const body = await overview(60);
    const { bucket_seconds, buckets } = body.series;

    expect(bucket_seconds).toBe(120);
    expect(buckets).toHaveLength(30);
    expect(buckets[0].start).toBe(new Date(from).toISOString());
    expect(buckets[29].start).toBe(new Date(from + 29 * 2 * MINUTE).toISOString());
    expect(buckets[0]).toEqual({
      start: new Date(from).toISOString(),
      jobs: 2,
      completed: 1,
      timeouts: 1,
      provider_errors: 0,
    });
    expect(buckets[1]).toMatchObject({ jobs: 1, provider_errors: 1 });
    expect(buckets[15]).toMatchObject({ jobs: 1, completed: 1 });
    expect(buckets[29]).toMatchObject({ jobs: 1, completed: 1 });
    expect(sum(buckets, 'jobs')).toBe(body.system.jobs_last_window);
    expect(sum(buckets, 'jobs')).toBe(5);
    expect(sum(buckets, 'completed')).toBe(3);
    expect(sum(buckets, 'timeouts')).toBe(body.system.timeouts_last_window);
    expect(sum(buckets, 'provider_errors')).toBe(body.system.provider_errors_last_window);

    const wide = await overview(4320);
    expect(wide.series.bucket_seconds).toBe(8640);
    expect(wide.series.buckets).toHaveLength(30);
    expect(sum(wide.series.buckets, 'jobs')).toBe(wide.system.jobs_last_window);
  });

  it('lists all 15 slots, with the latest success and failure whenever they were', async () => {
    const now = freshPeriod();
    const slotId = 'slot-007';
    const success = await insertJob(app.databaseUrl, { slotId, startedAt: ago(now, 9 * DAY) });
    await insertJob(app.databaseUrl, {
      slotId,
      status: 'failed_provider',
      failureReason: 'provider_error',
      startedAt: ago(now, 8 * DAY),
    });
    const lastFailure = await insertJob(app.databaseUrl, {
      slotId,
      status: 'failed_timeout',
      failureReason: 'timeout',
      startedAt: ago(now, 7 * DAY),
    });
    // Neither a cancellation nor a test-run is the slot failing the booth.
    await insertJob(app.databaseUrl, {
      slotId,
      status: 'cancelled',
      failureReason: 'cancelled',
      startedAt: ago(now, 6 * DAY),
    });
    await insertJob(app.databaseUrl, {
      slotId,
      source: 'ui_test',
      status: 'failed_provider',
      failureReason: 'blocked',
      startedAt: ago(now, 5 * DAY),
    });

    const body = await overview(60);

    expect(body.slots.map((slot: any) => slot.slot_id)).toEqual(SLOT_IDS);
    expect(slotOf(body, slotId)).toEqual({
      slot_id: slotId,
      display_name: 'Слот 007',
      is_active: false,
      jobs_total: 4,
      jobs_last_window: 0,
      timeouts_last_window: 0,
      provider_errors_last_window: 0,
      last_success_at: success.finishedAt!.toISOString(),
      last_error_reason: 'timeout',
      last_error_at: lastFailure.finishedAt!.toISOString(),
      success_rate: null,
      p95_duration_ms: null,
      test_runs_last_window: 0,
    });
    // A slot that never ran.
    expect(slotOf(body, 'slot-015')).toMatchObject({
      jobs_total: 0,
      jobs_last_window: 0,
      last_success_at: null,
      last_error_reason: null,
      success_rate: null,
      p95_duration_ms: null,
    });
  });

  it('reports storage as the recorded size of results still on disk plus templates', async () => {
    const now = freshPeriod();
    const slotId = 'slot-010';
    await insertJob(app.databaseUrl, {
      slotId,
      startedAt: ago(now, DAY),
      resultSizeBytes: 3 * MIB,
    });
    await insertJob(app.databaseUrl, {
      slotId,
      source: 'ui_test',
      startedAt: ago(now, DAY),
      resultSizeBytes: MIB / 2,
    });
    await insertJob(app.databaseUrl, {
      slotId,
      startedAt: ago(now, 5 * DAY),
      resultSizeBytes: 7 * MIB,
      resultDeletedAt: ago(now, 2 * DAY),
    });
    await insertTemplateMedia(app.databaseUrl, { sizeBytes: MIB + MIB / 4 });

    const body = await overview(60);

    expect(body.system.storage_usage_mb).toBe(4.75);
  });

  it('keeps jobs_total equal to the booth rows through inserts, deletes, moves and truncation', async () => {
    freshPeriod();
    const ingestRows = async () => {
      const [row] = await sql<{ n: number }>(
        app.databaseUrl,
        "SELECT count(*)::int AS n FROM job WHERE source = 'ingest'",
      );
      return row?.n;
    };
    const jobsTotal = async () => (await overview(60)).system.jobs_total;

    await sql(
      app.databaseUrl,
      `INSERT INTO job (id, slot_id, source, status, started_at, deadline_at)
       SELECT gen_random_uuid(), format('slot-%s', lpad((n % 3 + 11)::text, 3, '0')),
              CASE WHEN n % 4 = 0 THEN 'ui_test' ELSE 'ingest' END, 'completed', now(), now()
       FROM generate_series(1, 40) AS n`,
    );
    expect(await jobsTotal()).toBe(await ingestRows());
    expect(slotOf(await overview(60), 'slot-011').jobs_total).toBe(10);

    await sql(app.databaseUrl, "DELETE FROM job WHERE slot_id = 'slot-012' AND source = 'ingest'");
    expect(await jobsTotal()).toBe(await ingestRows());
    expect(slotOf(await overview(60), 'slot-012').jobs_total).toBe(0);

    await sql(
      app.databaseUrl,
      "UPDATE job SET source = 'ui_test' WHERE slot_id = 'slot-013' AND source = 'ingest'",
    );
    await sql(app.databaseUrl, "UPDATE job SET slot_id = 'slot-012' WHERE slot_id = 'slot-011'");
    expect(await jobsTotal()).toBe(await ingestRows());
    const moved = await overview(60);
    expect(slotOf(moved, 'slot-011').jobs_total).toBe(0);
    expect(slotOf(moved, 'slot-012').jobs_total).toBe(10);
    expect(slotOf(moved, 'slot-013').jobs_total).toBe(0);

    // Truncation empties the counts; rolled back so the other tests keep their rows.
    const client = new Client({ connectionString: app.databaseUrl });
    await client.connect();
    try {
      await client.query('BEGIN');
      await client.query('TRUNCATE job CASCADE');
      const { rows } = await client.query('SELECT count(*)::int AS n FROM job_count');
      expect(rows[0].n).toBe(0);
    } finally {
      await client.query('ROLLBACK');
      await client.end();
    }
  });

  it('answers /api/stats/global with the overview’s system object', async () => {
    const now = freshPeriod();
    await insertJob(app.databaseUrl, { slotId: 'slot-014', startedAt: ago(now, 30 * MINUTE) });
    await insertJob(app.databaseUrl, {
      slotId: 'slot-014',
      status: 'failed_timeout',
      failureReason: 'timeout',
      startedAt: ago(now, 2 * DAY),
    });

    for (const windowMinutes of [60, 4320]) {
      const global = await get(`/api/stats/global?window_minutes=${windowMinutes}`);
      expect(global.status).toBe(200);
      expect(global.body).toEqual((await overview(windowMinutes)).system);
    }
    const byDefault = await get('/api/stats/global');
    expect(byDefault.body).toEqual((await overview(60)).system);
    expect(byDefault.body.jobs_last_window).toBe(1);
  });

  it('answers /api/stats/{slot_id} with the slot’s overview element and its own series', async () => {
    const now = freshPeriod();
    await insertJob(app.databaseUrl, {
      slotId: 'slot-001',
      startedAt: ago(now, 90 * MINUTE),
      durationMs: 4000,
    });
    await insertJob(app.databaseUrl, {
      slotId: 'slot-001',
      status: 'failed_provider',
      failureReason: 'provider_error',
      startedAt: ago(now, 70 * MINUTE),
    });
    await insertJob(app.databaseUrl, { slotId: 'slot-003', startedAt: ago(now, 80 * MINUTE) });

    const response = await get('/api/stats/slot-001?window_minutes=120');
    const body = await overview(120);

    expect(response.status).toBe(200);
    const { window_minutes, series, ...element } = response.body;
    expect(window_minutes).toBe(120);
    expect(element).toEqual(slotOf(body, 'slot-001'));
    expect(element).toMatchObject({
      jobs_last_window: 2,
      provider_errors_last_window: 1,
      success_rate: 0.5,
      p95_duration_ms: 4000,
      last_error_reason: 'provider_error',
    });
    expect(series.bucket_seconds).toBe(240);
    expect(series.buckets).toHaveLength(30);
    expect(series.buckets[0].start).toBe(body.series.buckets[0].start);
    expect(sum(series.buckets, 'jobs')).toBe(2);
    expect(sum(body.series.buckets, 'jobs')).toBe(3);
  });

  it('answers 404 slot_not_found for anything that is not a slot', async () => {
    for (const id of ['slot-016', 'slot-000', 'nope', 'slot-1']) {
      const response = await get(`/api/stats/${id}`);
      expect(response.status).toBe(404);
      expect(response.body.failure_reason).toBe('slot_not_found');
    }
  });

  it('refuses a window that is not a whole number of minutes from 5 to 4320', async () => {
    freshPeriod();
    const bad = ['4', '4321', 'abc', '', '60.5', '1e2', '-60', '60&window_minutes=61'];
    for (const route of ['/api/stats/overview', '/api/stats/global', '/api/stats/slot-001']) {
      for (const value of bad) {
        const response = await get(`${route}?window_minutes=${value}`);
        expect({ route, value, status: response.status }).toEqual({ route, value, status: 422 });
        expect(response.body.failure_reason).toBe('validation_failed');
        expect(Object.keys(response.body.errors)).toEqual(['window_minutes']);
        expect(response.body.errors.window_minutes).toMatch(/5 to 4320/);
      }
    }
    for (const value of [5, 4320]) expect((await overview(value)).window_minutes).toBe(value);
    expect((await get('/api/stats/overview')).body.window_minutes).toBe(60);
  });
});
