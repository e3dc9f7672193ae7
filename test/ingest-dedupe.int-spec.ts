// SPEC §2: exact retries never call the provider twice, new shots always do; the per-slot limit
// refuses, the per-provider limit queues.
import { GeminiBehaviour, GeminiReply, HeldBehaviour } from './fakes/fake-gemini';
import { BoothResponse, boothPost, dslrFields } from './support/booth';
import { sql } from './support/database';
import { jpeg } from './support/images';
import {
  INGEST_PASSWORD,
  IngestEnv,
  pause,
  saveSettings,
  saveSlot,
  startIngestApp,
  stopIngestApp,
  waitFor,
} from './support/ingest-setup';
import type { TestApp } from './support/test-app';

const HOUR = 3_600_000;

describe('ingest dedupe and limits', () => {
  let env: IngestEnv;
  let app: TestApp;
  let token: string;
  let photo: Buffer;
  let otherPhoto: Buffer;
  /** Every held behaviour a test installs, released after it whatever happened. */
  const holds: HeldBehaviour[] = [];

  const post = (
    fields: Record<string, string>,
    bytes: Buffer = photo,
    options: { slotId?: string; headers?: Record<string, string> } = {},
  ): Promise<BoothResponse> =>
    boothPost(
      `${app.url}/ingest/${options.slotId ?? 'slot-001'}`,
      { fields: { ...fields, password: INGEST_PASSWORD }, file: { bytes } },
      { headers: options.headers },
    );
  const testRun = (bytes: Buffer = photo): Promise<BoothResponse> =>
    boothPost(
      `${app.url}/api/slots/slot-001/test-run`,
      { file: { field: 'test_image', bytes } },
      { headers: { authorization: `Bearer ${token}` } },
    );
  const hold = (behaviour?: GeminiBehaviour): HeldBehaviour => {
    const held = GeminiReply.held(behaviour);
    holds.push(held);
    env.gemini.respondWith(held);
    return held;
  };
  const ok = (answer: BoothResponse): BoothResponse => {
    if (answer.status !== 200) {
      throw new Error(`expected 200, got ${answer.status} ${JSON.stringify(answer.json)}`);
    }
    return answer;
  };
  const jobsOf = async (slotId = 'slot-001'): Promise<number> => {
    const [row] = await sql<{ count: number }>(
      app.databaseUrl,
      'SELECT count(*)::int AS count FROM job WHERE slot_id = $1',
      [slotId],
    );
    return row?.count ?? 0;
  };
  const dedupeLogs = (state: string) =>
    app.logs.filter((line) => line.event === 'ingest.deduplicated' && line.state === state);

  beforeAll(async () => {
    env = await startIngestApp();
    app = env.app;
    token = env.token;
    photo = await jpeg(800, 600);
    otherPhoto = await jpeg(800, 600, { quality: 70 });
    await saveSlot(app, token, 'slot-001');
    await saveSlot(app, token, 'slot-002');
  });

  afterAll(() => stopIngestApp(env));

  beforeEach(() => env.gemini.reset());

  afterEach(() => {
    for (const held of holds.splice(0)) held.release();
  });

  describe('exact retries (SPEC §2)', () => {
    it('answers a retry of a completed shot with the stored result, calling the provider once', async () => {
      const shot = dslrFields();
      const first = ok(await post(shot));
      const before = await jobsOf();

      const retry = ok(await post(shot));

      expect(retry.headers['x-deduplicated']).toBe('true');
      expect(retry.headers['x-job-id']).toBe(first.headers['x-job-id']);
      expect(retry.headers['x-result-url']).toBe(first.headers['x-result-url']);
      expect(retry.headers['content-type']).toBe(first.headers['content-type']);
      expect(retry.headers['content-length']).toBe(String(retry.body.length));
      expect(retry.headers['cache-control']).toBe('no-store');
      expect(retry.body.equals(first.body)).toBe(true);
      expect(first.headers['x-deduplicated']).toBeUndefined();
      expect(env.gemini.requests).toHaveLength(1);
      expect(await jobsOf()).toBe(before);
    });

    it('makes a retry of a shot in flight wait for it and share its result', async () => {
      const held = hold();
      const shot = dslrFields();
      const first = post(shot);
      await held.reached;

      const joined = dedupeLogs('in_flight').length;
      const retry = post(shot);
      await waitFor(
        'the retry to join the running job',
        () => dedupeLogs('in_flight').length > joined,
      );
      await pause(300);
      expect(env.gemini.requests).toHaveLength(1);
      held.release();

      const [a, b] = [ok(await first), ok(await retry)];
      expect(b.headers['x-job-id']).toBe(a.headers['x-job-id']);
      expect(b.headers['x-deduplicated']).toBe('true');
      expect(a.headers['x-deduplicated']).toBeUndefined();
      expect(b.body.equals(a.body)).toBe(true);
      expect(env.gemini.requests).toHaveLength(1);
    });

    it('lets two identical requests arriving together call the provider once', async () => {
      const held = hold();
      const shot = dslrFields();
      const joined = dedupeLogs('in_flight').length;
      const both = [post(shot), post(shot)];
      await held.reached;
      await waitFor('one of them to join the other', () => dedupeLogs('in_flight').length > joined);
      held.release();
      const [a, b] = (await Promise.all(both)).map(ok);
      expect(a.headers['x-job-id']).toBe(b.headers['x-job-id']);
      expect([a, b].filter((answer) => answer.headers['x-deduplicated'] === 'true')).toHaveLength(
        1,
      );
      expect(env.gemini.requests).toHaveLength(1);
    });

    it('gives a retry in flight the failure of the job it waited for', async () => {
      const held = hold(GeminiReply.error(400, 'INVALID_ARGUMENT', 'Invalid argument.'));
      const shot = dslrFields();
      const first = post(shot);
      await held.reached;
      const joined = dedupeLogs('in_flight').length;
      const retry = post(shot);
      await waitFor(
        'the retry to join the running job',
        () => dedupeLogs('in_flight').length > joined,
      );
      held.release();

      const [a, b] = [await first, await retry];
      expect(a.status).toBe(502);
      expect(a.json).toMatchObject({
        failure_reason: 'provider_error',
        job_id: expect.any(String),
      });
      expect(b.status).toBe(502);
      expect(b.json).toMatchObject({ status: 'error', failure_reason: 'provider_error' });
      expect(b.json.job_id).toBe(a.json.job_id);
      expect(env.gemini.requests).toHaveLength(1);
    });

    it('treats the same Idempotency-Key on the same slot as the same request', async () => {
      const key = `booth-retry-${Date.now()}`;
      const first = ok(await post(dslrFields(), photo, { headers: { 'Idempotency-Key': key } }));
      // Whatever the fields and the bytes: the key alone identifies the request.
      const retry = ok(
        await post({ note: 'retry' }, otherPhoto, { headers: { 'Idempotency-Key': key } }),
      );
      expect(retry.headers['x-deduplicated']).toBe('true');
      expect(retry.headers['x-job-id']).toBe(first.headers['x-job-id']);
      expect(retry.body.equals(first.body)).toBe(true);
      expect(env.gemini.requests).toHaveLength(1);

      // The same key on another slot is another request.
      const elsewhere = ok(
        await post(dslrFields(), photo, {
          slotId: 'slot-002',
          headers: { 'Idempotency-Key': key },
        }),
      );
      expect(elsewhere.headers['x-deduplicated']).toBeUndefined();
      expect(elsewhere.headers['x-job-id']).not.toBe(first.headers['x-job-id']);
      expect(env.gemini.requests).toHaveLength(2);
    });

    it('makes an Idempotency-Key retry in flight wait for the first request', async () => {
      const held = hold();
      const key = `booth-retry-${Date.now()}-in-flight`;
      const first = post({}, photo, { headers: { 'Idempotency-Key': key } });
      await held.reached;
      const joined = dedupeLogs('in_flight').length;
      const retry = post({}, photo, { headers: { 'Idempotency-Key': key } });
      await waitFor(
        'the retry to join the running job',
        () => dedupeLogs('in_flight').length > joined,
      );
      held.release();
      const [a, b] = [ok(await first), ok(await retry)];
      expect(b.headers['x-job-id']).toBe(a.headers['x-job-id']);
      expect(b.headers['x-deduplicated']).toBe('true');
      expect(env.gemini.requests).toHaveLength(1);
    });

    it('processes a new shot (new time or id) of the same photo again', async () => {
      const shot = dslrFields();
      const first = ok(await post(shot));
      const newTime = ok(await post({ ...shot, time: String(Number(shot.time) + 1) }));
      const newId = ok(await post({ ...shot, id: `${shot.id}2` }));
      const ids = new Set([first, newTime, newId].map((answer) => answer.headers['x-job-id']));
      expect(ids.size).toBe(3);
      for (const answer of [newTime, newId]) {
        expect(answer.headers['x-deduplicated']).toBeUndefined();
      }
      expect(env.gemini.requests).toHaveLength(3);
    });

    it('processes another photo with the same time and id again', async () => {
      const shot = dslrFields();
      const first = ok(await post(shot, photo));
      const other = ok(await post(shot, otherPhoto));
      expect(other.headers['x-job-id']).not.toBe(first.headers['x-job-id']);
      expect(other.headers['x-deduplicated']).toBeUndefined();
      expect(env.gemini.requests).toHaveLength(2);
    });

    it('processes a retry again once the slot was saved (a new slot version)', async () => {
      const shot = dslrFields();
      const first = ok(await post(shot));
      await saveSlot(app, token, 'slot-001', { settings: { prompt: 'Put them on a snowy peak' } });
      const retry = ok(await post(shot));
      expect(retry.headers['x-deduplicated']).toBeUndefined();
      expect(retry.headers['x-job-id']).not.toBe(first.headers['x-job-id']);
      expect(env.gemini.requests).toHaveLength(2);
      expect(env.gemini.requests[1].text()).toContain('snowy peak');
    });

    it('does not dedupe without both time and id, nor without a key', async () => {
      const shot = dslrFields();
      const { time, id, ...rest } = shot;
      const cases = [
        rest,
        rest,
        { ...rest, time },
        { ...rest, time },
        { ...rest, id },
        { ...rest, id },
      ];
      const answers: BoothResponse[] = [];
      for (const fields of cases) answers.push(ok(await post(fields)));
      expect(new Set(answers.map((answer) => answer.headers['x-job-id'])).size).toBe(cases.length);
      expect(answers.every((answer) => answer.headers['x-deduplicated'] === undefined)).toBe(true);
      expect(env.gemini.requests).toHaveLength(cases.length);
    });

    it('never dedupes test-runs', async () => {
      const first = ok(await testRun());
      const second = ok(await testRun());
      expect(second.headers['x-job-id']).not.toBe(first.headers['x-job-id']);
      expect(second.headers['x-deduplicated']).toBeUndefined();
      expect(env.gemini.requests).toHaveLength(2);
    });

    it('processes a retry again once the stored result has expired', async () => {
      const shot = dslrFields();
      const first = ok(await post(shot));
      expect(ok(await post(shot)).headers['x-deduplicated']).toBe('true');

      app.clock.advance(73 * HOUR);
      token = await app.login(); // the admin's token expired meanwhile too
      const late = ok(await post(shot));
      expect(late.headers['x-deduplicated']).toBeUndefined();
      expect(late.headers['x-job-id']).not.toBe(first.headers['x-job-id']);
      expect(env.gemini.requests).toHaveLength(2);
    });
  });

  describe('limits', () => {
    afterEach(async () => {
      for (const held of holds.splice(0)) held.release();
      await saveSettings(app, token, { slot_concurrency: 4, provider_concurrency: { gemini: 16 } });
    });

    it('refuses exactly the one request beyond slot_concurrency 2', async () => {
      await saveSettings(app, token, { slot_concurrency: 2 });
      const held = hold();
      const settled: BoothResponse[] = [];
      const requests = [1, 2, 3].map(() =>
        post(dslrFields()).then((answer) => {
          settled.push(answer);
          return answer;
        }),
      );
      await waitFor('one request to be refused', () => settled.length === 1, 10_000);
      expect(settled[0].status).toBe(429);
      expect(settled[0].json).toEqual({
        status: 'error',
        failure_reason: 'slot_busy',
        message: expect.stringMatching(/\w/),
      });
      expect(settled[0].headers['retry-after']).toMatch(/^\d+$/);
      await env.gemini.waitForRequests(2);

      held.release();
      const statuses = (await Promise.all(requests)).map((answer) => answer.status).sort();
      expect(statuses).toEqual([200, 200, 429]);
      expect(env.gemini.requests).toHaveLength(2);
    });

    it('queues calls beyond provider_concurrency instead of refusing them', async () => {
      await saveSettings(app, token, { provider_concurrency: { gemini: 1 } });
      const held = hold();
      const first = post(dslrFields());
      await held.reached;

      const second = post(dslrFields(), otherPhoto, { slotId: 'slot-002' });
      // The second job is admitted and running, waiting for its turn at the provider.
      await waitFor('the second job to be processing', async () => {
        const rows = await sql(
          app.databaseUrl,
          "SELECT id FROM job WHERE slot_id = 'slot-002' AND status = 'processing'",
        );
        return rows.length === 1;
      });
      await pause(500);
      expect(env.gemini.requests).toHaveLength(1);

      held.release();
      const a = ok(await first);
      const b = ok(await second);
      expect(env.gemini.requests).toHaveLength(2);
      expect(a.headers['x-job-id']).not.toBe(b.headers['x-job-id']);
    });
  });
});
