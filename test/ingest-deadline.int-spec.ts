import { randomUUID } from 'node:crypto';
import sharp from 'sharp';
import type { GeminiBehaviour, HeldBehaviour } from './fakes/fake-gemini';
import { FakeGemini, GeminiReply } from './fakes/fake-gemini';
import { insertJob } from './factories';
import { jpeg, png } from './support/images';
import {
  configureGeminiSlot,
  configureIngest,
  hasResultFiles,
  jobRow,
  RunningClock,
  runningJobIds,
  shoot,
  shootAndHangUp,
  sleep,
  timedShot,
  TimedShot,
  updateSettings,
  waitFor,
} from './support/ingest-harness';
import { sql } from './support/database';
import { TestApp } from './support/test-app';

const GEMINI_KEY = 'AIzaSyDeadlineSuiteKey-51c0e8d2a7';
const SYNC_SECONDS = 10;
/** How late the booth's answer may be after the deadline: behaviour, not a speed target. */
const ANSWER_GRACE_MS = 1_500;
const LATE_ANSWER_MS = 12_000;

const HANGING_MODEL = 'gemini-hangs-forever';
const LATE_MODEL = 'gemini-answers-late';

describe('ingest: deadline, disconnects and cancel', () => {
  let gemini: FakeGemini;
  let app: TestApp;
  let token: string;
  let photo: Buffer;
  let answer: Buffer;

  beforeAll(async () => {
    gemini = await FakeGemini.start({ apiKey: GEMINI_KEY });
    app = await TestApp.start({
      env: { GEMINI_BASE_URL: gemini.baseUrl, GEMINI_API_KEY: GEMINI_KEY },
      clock: new RunningClock(),
    });
    token = await configureIngest(app);
    await configureGeminiSlot(app, token, 'slot-001');
    await configureGeminiSlot(app, token, 'slot-002', { model: HANGING_MODEL });
    await configureGeminiSlot(app, token, 'slot-003', { model: LATE_MODEL });
    photo = await jpeg(640, 480);
    answer = await png(96, 64);
  });

  afterAll(async () => {
    await app?.close();
    await gemini?.close();
  });

  /**
   * Both deadline scenarios run at once (one on each slot, told apart by model), so the suite
   * waits for the 10 s deadline once; each test then checks its own request.
   */
  describe(`a provider that outlives the ${SYNC_SECONDS} s deadline`, () => {
    let hanging: Promise<TimedShot>;
    let late: Promise<TimedShot>;
    let hangingCall: { arrivedAt?: number; abortedAt?: number } = {};
    let lateCall: { arrivedAt?: number; answeredAt?: number } = {};

    const timed = (slotId: string): Promise<TimedShot> => timedShot(app, slotId, photo);

    beforeAll(async () => {
      await updateSettings(app, token, { sync_response_seconds: SYNC_SECONDS });
      gemini.reset();
      hangingCall = {};
      lateCall = {};
      const watchHang: GeminiBehaviour = ({ response }) => {
        hangingCall.arrivedAt = Date.now();
        response.on('close', () => {
          if (!response.writableEnded) hangingCall.abortedAt = Date.now();
        });
      };
      const answerLate = GeminiReply.delay(LATE_ANSWER_MS, (exchange) => {
        lateCall.answeredAt = Date.now();
        GeminiReply.image(answer)(exchange);
      });
      gemini.respondWith((exchange) => {
        if (exchange.request.model === LATE_MODEL) {
          lateCall.arrivedAt = Date.now();
          answerLate(exchange);
        } else watchHang(exchange);
      });
      hanging = timed('slot-002');
      late = timed('slot-003');
    });

    afterAll(async () => {
      await Promise.allSettled([hanging, late]);
      await updateSettings(app, token, { sync_response_seconds: 48 });
    });

    it('answers 504 timeout at the deadline when the provider hangs, and aborts the call', async () => {
      const { sentAt, answeredAt, response } = await hanging;

      expect(response.status).toBe(504);
      expect(response.json).toEqual({
        status: 'error',
        failure_reason: 'timeout',
        message: expect.any(String),
        job_id: expect.any(String),
      });
      const elapsed = answeredAt - sentAt;
      expect(elapsed).toBeGreaterThanOrEqual(SYNC_SECONDS * 1000 - 100);
      expect(elapsed).toBeLessThanOrEqual(SYNC_SECONDS * 1000 + ANSWER_GRACE_MS);

      const row = await jobRow(app, response.json.job_id);
      expect(row).toMatchObject({
        slot_id: 'slot-002',
        status: 'failed_timeout',
        failure_reason: 'timeout',
        result_path: null,
      });
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.duration_ms).toBe(row.finished_at!.getTime() - row.started_at.getTime());
      expect(row.duration_ms).toBeGreaterThanOrEqual(SYNC_SECONDS * 1000 - 100);
      expect(row.duration_ms).toBeLessThanOrEqual(SYNC_SECONDS * 1000 + ANSWER_GRACE_MS);

      // The provider call was given up at the deadline, not left hanging.
      expect(hangingCall.arrivedAt).toBeDefined();
      expect(hangingCall.abortedAt).toBeDefined();
      expect(hangingCall.abortedAt!).toBeLessThanOrEqual(answeredAt + 500);
      const requests = gemini.requests.filter((request) => request.model === HANGING_MODEL);
      expect(requests).toHaveLength(1);
    });

    it('answers 504 at the deadline when the answer comes later, and ignores the late answer', async () => {
      const { sentAt, answeredAt, response } = await late;

      expect(response.status).toBe(504);
      expect(response.json.failure_reason).toBe('timeout');
      expect(answeredAt - sentAt).toBeLessThanOrEqual(SYNC_SECONDS * 1000 + ANSWER_GRACE_MS);
      const jobId: string = response.json.job_id;
      const expectTimedOut = async (): Promise<void> => {
        const row = await jobRow(app, jobId);
        expect(row).toMatchObject({
          status: 'failed_timeout',
          failure_reason: 'timeout',
          result_path: null,
          result_mime_type: null,
          result_size_bytes: null,
          result_checksum: null,
          result_width: null,
          result_height: null,
          result_expires_at: null,
          usage: null,
        });
        expect(hasResultFiles(app, 'slot-003', jobId)).toBe(false);
        const status = await app.request('GET', `/api/jobs/${jobId}`);
        expect(status.body).toMatchObject({ status: 'failed_timeout', result_url: null });
      };
      await expectTimedOut();

      // Once the provider's late answer has gone out, nothing has changed.
      await waitFor(
        () => Promise.resolve(lateCall.answeredAt),
        'the late answer',
        LATE_ANSWER_MS + 2_000,
      );
      await sleep(500);
      await expectTimedOut();
      expect(await app.request('GET', `/public/results/${jobId}`)).toMatchObject({ status: 404 });
      expect(gemini.requests.filter((request) => request.model === LATE_MODEL)).toHaveLength(1);
    });
  });

  describe('a booth that hangs up while waiting', () => {
    let held: HeldBehaviour;

    beforeEach(() => {
      held = GeminiReply.held(GeminiReply.image(answer));
      gemini.reset().respondWith(held);
    });

    afterEach(() => held.release());

    it('does not stop its job: the result is still stored and downloadable', async () => {
      const booth = shootAndHangUp(app, 'slot-001', photo);
      await held.reached;
      const [jobId] = await runningJobIds(app, 'slot-001');
      expect(jobId).toBeDefined();

      booth.hangUp();
      await booth.closed;
      // Give the server time to notice the closed socket before the provider answers.
      await sleep(200);
      held.release();

      const status = await waitFor(async () => {
        const response = await app.request('GET', `/api/jobs/${jobId}`);
        return response.body.status === 'processing' ? undefined : response.body;
      }, 'the job to finish');
      expect(status).toMatchObject({
        job_id: jobId,
        status: 'completed',
        failure_reason: null,
        result_url: `${app.config.publicBaseUrl}/public/results/${jobId}`,
      });
      expect(booth.answeredStatus()).toBeUndefined();

      const download = await fetch(`${app.url}/public/results/${jobId}`);
      expect(download.status).toBe(200);
      const bytes = Buffer.from(await download.arrayBuffer());
      const meta = await sharp(bytes).metadata();
      expect({ format: meta.format, width: meta.width, height: meta.height }).toEqual({
        format: 'jpeg',
        width: 96,
        height: 64,
      });
      expect(hasResultFiles(app, 'slot-001', jobId)).toBe(true);
      // A booth that went away is not an error on the server's side.
      expect(app.logs.filter((line) => line.level === 'error')).toEqual([]);
    });
  });

  describe('cancel', () => {
    let held: HeldBehaviour;

    beforeEach(() => {
      held = GeminiReply.held(GeminiReply.image(answer));
      gemini.reset().respondWith(held);
    });

    afterEach(() => held.release());

    it('aborts a running job: the booth gets 409 cancelled and no result is kept', async () => {
      const booth = shoot(app, 'slot-001', photo);
      await held.reached;
      const [jobId] = await runningJobIds(app, 'slot-001');
      expect(jobId).toBeDefined();

      const anonymous = await app.request('POST', `/api/jobs/${jobId}/cancel`);
      expect(anonymous.status).toBe(401);
      expect(anonymous.body.failure_reason).toBe('unauthorized');
      expect((await jobRow(app, jobId)).status).toBe('processing');

      const cancelled = await app.request('POST', `/api/jobs/${jobId}/cancel`, { token });
      expect(cancelled.status).toBe(200);
      expect(cancelled.body).toMatchObject({
        job_id: jobId,
        status: 'cancelled',
        failure_reason: 'cancelled',
        result_url: null,
      });

      const response = await booth;
      expect(response.status).toBe(409);
      expect(response.json).toEqual({
        status: 'error',
        failure_reason: 'cancelled',
        message: expect.any(String),
        job_id: jobId,
      });

      // The provider answering afterwards changes nothing.
      held.release();
      await sleep(300);
      const row = await jobRow(app, jobId);
      expect(row).toMatchObject({
        status: 'cancelled',
        failure_reason: 'cancelled',
        result_path: null,
        result_expires_at: null,
      });
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.duration_ms).toBeGreaterThanOrEqual(0);
      expect(hasResultFiles(app, 'slot-001', jobId)).toBe(false);
      expect(gemini.requests).toHaveLength(1);

      const again = await app.request('POST', `/api/jobs/${jobId}/cancel`, { token });
      expect(again.status).toBe(409);
      expect(again.body).toMatchObject({ failure_reason: 'job_final', job_id: jobId });
    });

    it('reaches a job running here when the cancel was recorded by another instance', async () => {
      const booth = shoot(app, 'slot-001', photo);
      await held.reached;
      const [jobId] = await runningJobIds(app, 'slot-001');
      // What another instance's cancel leaves behind: only the row changes.
      await sql(
        app.databaseUrl,
        `UPDATE job SET status = 'cancelled', failure_reason = 'cancelled', finished_at = now()
          WHERE id = $1`,
        [jobId],
      );
      const response = await booth;
      expect(response.status).toBe(409);
      expect(response.json).toMatchObject({ failure_reason: 'cancelled', job_id: jobId });
      expect(hasResultFiles(app, 'slot-001', jobId)).toBe(false);
    });

    it('answers 409 job_final for a job that already completed', async () => {
      held.release();
      const response = await shoot(app, 'slot-001', photo);
      expect(response.status).toBe(200);
      const jobId = String(response.headers['x-job-id']);
      const cancel = await app.request('POST', `/api/jobs/${jobId}/cancel`, { token });
      expect(cancel.status).toBe(409);
      expect(cancel.body.failure_reason).toBe('job_final');
      expect((await jobRow(app, jobId)).status).toBe('completed');
      expect(hasResultFiles(app, 'slot-001', jobId)).toBe(true);
    });

    it('answers 404 job_not_found for unknown and malformed ids', async () => {
      const unknown = randomUUID();
      const cancel = await app.request('POST', `/api/jobs/${unknown}/cancel`, { token });
      expect(cancel.status).toBe(404);
      expect(cancel.body.failure_reason).toBe('job_not_found');

      for (const id of [unknown, 'not-a-uuid', '12345', `${unknown}x`, '%2e%2e%2fslot-001']) {
        const status = await app.request('GET', `/api/jobs/${id}`);
        expect({ id, status: status.status, reason: status.body.failure_reason }).toEqual({
          id,
          status: 404,
          reason: 'job_not_found',
        });
      }
    });
  });
});

describe('ingest: jobs left running by a process that died', () => {
  it('finalises them as interrupted at start-up, and leaves live jobs of other instances alone', async () => {
    const first = await TestApp.start();
    const { databaseUrl, dataDir } = first;
    const now = Date.now();
    const ago = (ms: number): Date => new Date(now - ms);
    const dead = await insertJob(databaseUrl, {
      slotId: 'slot-001',
      status: 'processing',
      startedAt: ago(170_000),
      deadlineAt: ago(122_000),
    });
    const deadPending = await insertJob(databaseUrl, {
      slotId: 'slot-002',
      status: 'pending',
      startedAt: ago(110_000),
      deadlineAt: ago(62_000),
    });
    const deadOnSlot3 = await insertJob(databaseUrl, {
      slotId: 'slot-003',
      status: 'processing',
      startedAt: ago(3_600_000),
      deadlineAt: ago(3_552_000),
    });
    const live = await insertJob(databaseUrl, {
      slotId: 'slot-001',
      status: 'processing',
      startedAt: ago(10_000),
      deadlineAt: new Date(now + 38_000),
    });
    // Past its deadline but within the 60 s grace: its instance may still be finishing it.
    const recent = await insertJob(databaseUrl, {
      slotId: 'slot-003',
      status: 'processing',
      startedAt: ago(60_000),
      deadlineAt: ago(12_000),
    });
    await first.close(true);

    const restarted = await TestApp.start({ databaseUrl, dataDir });
    try {
      const rows = await sql<{
        id: string;
        status: string;
        failure_reason: string | null;
        finished_at: Date | null;
        duration_ms: number | null;
      }>(
        databaseUrl,
        'SELECT id, status, failure_reason, finished_at, duration_ms FROM job WHERE id = ANY($1)',
        [[dead.id, deadPending.id, deadOnSlot3.id, live.id, recent.id]],
      );
      const byId = new Map(rows.map((row) => [row.id, row]));

      for (const job of [dead, deadPending, deadOnSlot3]) {
        const row = byId.get(job.id)!;
        expect(row).toMatchObject({ status: 'failed_internal', failure_reason: 'interrupted' });
        expect(row.finished_at).toBeInstanceOf(Date);
        expect(row.duration_ms).toBeGreaterThan(0);
      }
      for (const job of [live, recent]) {
        expect(byId.get(job.id)).toMatchObject({
          status: 'processing',
          failure_reason: null,
          finished_at: null,
        });
      }
      // A start with nothing to recover says nothing; the restart reports what it finalised.
      const interrupted = (app: TestApp) =>
        app.logs.filter((line) => line.event === 'jobs.interrupted');
      expect(interrupted(first)).toEqual([]);
      expect(interrupted(restarted)).toEqual([expect.objectContaining({ count: 3 })]);
      const status = await restarted.request('GET', `/api/jobs/${dead.id}`);
      expect(status.body).toMatchObject({
        status: 'failed_internal',
        failure_reason: 'interrupted',
      });
    } finally {
      await restarted.close();
    }
  });
});
