// Request ids and structured logs: every request gets an X-Request-Id that its log lines carry,
// one `http.request` line per request, and no secret anywhere in the log of a run that used them.
import { GeminiReply } from './fakes/fake-gemini';
import { boothPost, BoothUpload, dslrFields } from './support/booth';
import { jpeg } from './support/images';
import {
  GEMINI_KEY,
  INGEST_PASSWORD,
  IngestEnv,
  saveSettings,
  saveSlot,
  startIngestApp,
  stopIngestApp,
  waitFor,
} from './support/ingest-setup';
import { ADMIN_PASSWORDS, TestApp } from './support/test-app';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const TURBOTEXT_KEY = 'turbotext-key-never-logged-9Xa';
const WRONG_ADMIN_PASSWORD = 'wrong-admin-password-77Q';
const WRONG_INGEST_PASSWORD = 'wrong-booth-password-31Z';
const QUERY_SECRET = 'query-secret-value-8Kd';

describe('request ids and logs', () => {
  let env: IngestEnv;
  let app: TestApp;
  let photo: Buffer;

  const booth = (fields: Record<string, string> = {}): BoothUpload => ({
    fields: { ...dslrFields(), password: INGEST_PASSWORD, ...fields },
    file: { bytes: photo },
  });
  const linesOf = (requestId: string) => app.logs.filter((line) => line.request_id === requestId);
  const requestLine = async (requestId: string): Promise<Record<string, unknown>> => {
    await waitFor(`the http.request line of ${requestId}`, () =>
      linesOf(requestId).some((line) => line.event === 'http.request'),
    );
    return linesOf(requestId).find((line) => line.event === 'http.request')!;
  };

  beforeAll(async () => {
    env = await startIngestApp();
    app = env.app;
    photo = await jpeg(640, 480);
    await saveSlot(app, env.token, 'slot-001');
  });

  afterAll(() => stopIngestApp(env));

  beforeEach(() => env.gemini.reset());

  describe('X-Request-Id', () => {
    it('echoes a sane incoming id and logs one http.request line with it', async () => {
      const response = await app.request('GET', '/api/slots', {
        token: env.token,
        headers: { 'x-request-id': 'proxy-7f3a.42:9' },
      });

      expect(response.status).toBe(200);
      expect(response.headers.get('x-request-id')).toBe('proxy-7f3a.42:9');
      expect(await requestLine('proxy-7f3a.42:9')).toEqual({
        time: expect.any(String),
        level: 'info',
        event: 'http.request',
        request_id: 'proxy-7f3a.42:9',
        method: 'GET',
        path: '/api/slots',
        status: 200,
        duration_ms: expect.any(Number),
        ip: '127.0.0.1',
      });
      expect(linesOf('proxy-7f3a.42:9').filter((l) => l.event === 'http.request')).toHaveLength(1);
    });

    it.each([
      ['too long', 'a'.repeat(65)],
      ['with spaces', 'two words'],
      ['with a quote', 'id"injected'],
      ['empty', ''],
    ])('replaces an id that is %s with a new UUID', async (_, sent) => {
      const response = await app.request('GET', '/healthz/live', {
        headers: { 'x-request-id': sent },
      });
      expect(response.headers.get('x-request-id')).toMatch(UUID);
    });

    it('gives a request without one a new UUID, also on unknown routes and errors', async () => {
      const answers = [
        await app.request('GET', '/healthz/live'),
        await app.request('GET', '/api/no-such-route'),
        await app.request('GET', '/api/slots'),
      ];
      expect(answers.map((a) => a.status)).toEqual([200, 404, 401]);
      const ids = answers.map((a) => a.headers.get('x-request-id'));
      for (const id of ids) expect(id).toMatch(UUID);
      expect(new Set(ids).size).toBe(3);
      expect(await requestLine(ids[1]!)).toMatchObject({ path: '/api/no-such-route', status: 404 });
    });

    it('follows an ingest through every line it writes, provider call included', async () => {
      const answer = await boothPost(`${app.url}/ingest/slot-001`, booth(), {
        headers: { 'x-request-id': 'booth-shot-0001' },
      });

      expect(answer.status).toBe(200);
      expect(answer.headers['x-request-id']).toBe('booth-shot-0001');
      await requestLine('booth-shot-0001');
      const jobId = answer.headers['x-job-id'];
      const events = linesOf('booth-shot-0001').map((line) => line.event);
      expect(events).toEqual(
        expect.arrayContaining([
          'ingest.accepted',
          'provider.gemini.call',
          'ingest.completed',
          'http.request',
        ]),
      );
      expect(linesOf('booth-shot-0001').find((l) => l.event === 'ingest.completed')).toEqual(
        expect.objectContaining({
          job_id: jobId,
          slot_id: 'slot-001',
          status: 'completed',
          duration_ms: expect.any(Number),
          provider_duration_ms: expect.any(Number),
        }),
      );
      expect(await requestLine('booth-shot-0001')).toMatchObject({
        method: 'POST',
        path: '/ingest/slot-001',
        status: 200,
      });
    });

    it('carries slot, job, status and durations on ingest.failed', async () => {
      env.gemini.respondWith(GeminiReply.unavailable());
      const answer = await boothPost(`${app.url}/ingest/slot-001`, booth(), {
        headers: { 'x-request-id': 'booth-shot-0002' },
      });

      expect(answer.status).toBe(503);
      expect(linesOf('booth-shot-0002').find((l) => l.event === 'ingest.failed')).toEqual(
        expect.objectContaining({
          level: 'warn',
          job_id: answer.json.job_id,
          slot_id: 'slot-001',
          status: 'failed_provider',
          failure_reason: 'provider_unavailable',
          duration_ms: expect.any(Number),
          provider_duration_ms: expect.any(Number),
        }),
      );
    });

    it('covers a refusal of the 100-continue hook, which never reaches Express', async () => {
      const answer = await boothPost(`${app.url}/ingest/slot-016`, booth(), {
        headers: { 'x-request-id': 'booth-shot-0003' },
      });

      expect(answer).toMatchObject({ status: 404, refusedBeforeBody: true });
      expect(answer.headers['x-request-id']).toBe('booth-shot-0003');
      expect(await requestLine('booth-shot-0003')).toMatchObject({
        method: 'POST',
        path: '/ingest/slot-016',
        status: 404,
      });
    });

    it('logs probes and scrapes at debug, so they do not drown the info lines', async () => {
      await app.request('GET', '/healthz', { headers: { 'x-request-id': 'probe-1' } });
      expect(await requestLine('probe-1')).toMatchObject({ level: 'debug', status: 200 });
    });
  });

  describe('secrets', () => {
    it('never writes query strings, passwords, tokens or API keys to the log', async () => {
      // A run that uses every secret there is, in the places they travel.
      await saveSettings(app, env.token, { provider_keys: { turbotext: TURBOTEXT_KEY } });
      await app.request('POST', '/api/login', {
        json: { username: 'serg', password: WRONG_ADMIN_PASSWORD },
      });
      const token = await app.login('igor');
      await app.request('GET', `/api/slots?access_token=${QUERY_SECRET}&page=2`, {
        token,
        headers: { cookie: `session=${QUERY_SECRET}` },
      });
      await app.request('GET', `/api/no-such-route?key=${QUERY_SECRET}`);
      await boothPost(`${app.url}/ingest/slot-001?password=${QUERY_SECRET}`, booth());
      await boothPost(`${app.url}/ingest/slot-001`, booth({ password: WRONG_INGEST_PASSWORD }));
      await boothPost(`${app.url}/ingest/slot-016?token=${QUERY_SECRET}`, booth());
      env.gemini.respondWith(GeminiReply.error(400, 'INVALID_ARGUMENT', 'API key not valid.'));
      await boothPost(`${app.url}/ingest/slot-001`, booth());
      await waitFor('every request line', () =>
        app.logs.some((l) => l.event === 'http.request' && l.path === '/ingest/slot-016'),
      );

      const log = app.rawLogs.join('\n');
      for (const secret of [
        QUERY_SECRET,
        ADMIN_PASSWORDS.serg,
        ADMIN_PASSWORDS.igor,
        WRONG_ADMIN_PASSWORD,
        INGEST_PASSWORD,
        WRONG_INGEST_PASSWORD,
        GEMINI_KEY,
        TURBOTEXT_KEY,
        env.token,
        token,
      ]) {
        expect(log).not.toContain(secret);
      }
      expect(log).not.toMatch(/eyJ[\w-]{6,}\./);
      expect(log).not.toMatch(/Bearer\s+(?!\[redacted\])\w/);
      const paths = app.logs.filter((l) => l.event === 'http.request').map((l) => l.path);
      expect(paths).toEqual(expect.arrayContaining(['/api/slots', '/ingest/slot-001']));
      for (const path of paths) expect(path).not.toMatch(/[?#]/);
    });
  });
});
