import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import type { GeminiBehaviour } from './fakes/fake-gemini';
import { FakeGemini, GeminiReply } from './fakes/fake-gemini';
import { boothPost, BoothResponse, dslrFields } from './support/booth';
import { sql } from './support/database';
import { gif, jpeg, png } from './support/images';
import {
  configureGeminiSlot,
  configureIngest,
  expectFailedJob,
  INGEST_PASSWORD,
  jobRow,
  RunningClock,
  shoot,
  updateSettings,
} from './support/ingest-harness';
import { TestApp } from './support/test-app';

const GEMINI_KEY = 'AIzaSyFaultsSuiteKey-9d2c7e41b0a6f3';
/** slot-001: the global default model, no fallback. */
const PLAIN = 'slot-001';
/** slot-002: its own primary model and a fallback model. */
const WITH_FALLBACK = 'slot-002';
const PRIMARY_MODEL = 'gemini-primary-under-test';
const FALLBACK_MODEL = 'gemini-fallback-under-test';

describe('ingest: provider faults', () => {
  let gemini: FakeGemini;
  let app: TestApp;
  let token: string;
  let photo: Buffer;
  let answer: Buffer;

  beforeAll(async () => {
    gemini = await FakeGemini.start({ apiKey: GEMINI_KEY });
    app = await TestApp.start({
      env: { GEMINI_BASE_URL: gemini.baseUrl },
      clock: new RunningClock(),
    });
    token = await configureIngest(app, { geminiKey: GEMINI_KEY });
    await configureGeminiSlot(app, token, PLAIN);
    await configureGeminiSlot(app, token, WITH_FALLBACK, {
      model: PRIMARY_MODEL,
      fallback_model: FALLBACK_MODEL,
    });
    photo = await jpeg(640, 480);
    answer = await png(96, 64);
  });

  beforeEach(() => {
    gemini.reset();
  });

  afterAll(async () => {
    await app?.close();
    await gemini?.close();
  });

  describe('refusals and garbage: 502, never retried', () => {
    interface Case {
      name: string;
      reply: () => GeminiBehaviour | Promise<GeminiBehaviour>;
      reason: string;
      provider?: { finish_reason: string | null; message: string | null };
    }
    const cases: Case[] = [
      {
        name: 'a blocked prompt (promptFeedback.blockReason)',
        reply: () => GeminiReply.blocked('PROHIBITED_CONTENT', 'The prompt breaks the policy.'),
        reason: 'blocked',
        provider: { finish_reason: 'PROHIBITED_CONTENT', message: 'The prompt breaks the policy.' },
      },
      {
        name: 'finishReason IMAGE_SAFETY with a message',
        reply: () => GeminiReply.finishReason('IMAGE_SAFETY', 'The image may show a minor.'),
        reason: 'blocked',
        provider: { finish_reason: 'IMAGE_SAFETY', message: 'The image may show a minor.' },
      },
      {
        name: 'a text-only answer',
        reply: () => GeminiReply.textOnly('I cannot edit photos of real people like this.'),
        reason: 'blocked',
        provider: {
          finish_reason: 'NO_IMAGE',
          message: 'I cannot edit photos of real people like this.',
        },
      },
      {
        name: 'HTTP 400 INVALID_ARGUMENT',
        reply: () => GeminiReply.error(400, 'INVALID_ARGUMENT', 'Request contains an invalid arg.'),
        reason: 'provider_error',
        provider: { finish_reason: null, message: 'Request contains an invalid arg.' },
      },
      {
        name: 'HTTP 403 PERMISSION_DENIED',
        reply: () => GeminiReply.error(403, 'PERMISSION_DENIED', 'The caller has no permission.'),
        reason: 'provider_error',
        provider: { finish_reason: null, message: 'The caller has no permission.' },
      },
      {
        name: 'a body cut off mid-JSON',
        reply: () => GeminiReply.malformedJson(),
        reason: 'bad_response',
      },
      {
        name: 'image data that is not base64',
        reply: () => GeminiReply.invalidBase64(),
        reason: 'bad_response',
      },
      {
        name: 'a 200 whose image bytes are not an image',
        reply: () => GeminiReply.image(Buffer.from('GIF? no: just some text bytes'), 'image/png'),
        reason: 'bad_response',
      },
      {
        name: 'a 200 whose image is a GIF',
        reply: async () => GeminiReply.image(await gif(32, 32), 'image/png'),
        reason: 'bad_response',
      },
    ];

    it.each(cases)('$name → 502 $reason, provider called once', async (c) => {
      // The same answer for every call: a retry would show up as a second request.
      gemini.respondWith(await c.reply());
      const response = await shoot(app, PLAIN, photo);

      const row = await expectFailedJob(app, response, {
        http: 502,
        reason: c.reason,
        status: 'failed_provider',
      });
      expect(gemini.requests).toHaveLength(1);
      if (c.provider) {
        expect({
          finish_reason: row.provider_finish_reason,
          message: row.provider_message,
        }).toEqual(c.provider);
      }
    });

    it('does not retry a refusal even on a slot with a fallback model', async () => {
      gemini.respondWith(GeminiReply.finishReason('IMAGE_SAFETY'));
      const response = await shoot(app, WITH_FALLBACK, photo);
      await expectFailedJob(app, response, {
        http: 502,
        reason: 'blocked',
        status: 'failed_provider',
      });
      expect(gemini.requests.map((request) => request.model)).toEqual([PRIMARY_MODEL]);
    });
  });

  describe('retryable failures: one retry, then 503', () => {
    it('retries a 429 once, then answers 503 quota', async () => {
      gemini.respondWith(GeminiReply.quotaExceeded());
      const response = await shoot(app, PLAIN, photo);
      const row = await expectFailedJob(app, response, {
        http: 503,
        reason: 'quota',
        status: 'failed_provider',
      });
      expect(gemini.requests).toHaveLength(2);
      expect(row.provider_message).toMatch(/exceeded your current quota/);
    });

    it('does not retry a daily quota', async () => {
      gemini.respondWith(GeminiReply.quotaExceeded({ daily: true }));
      const response = await shoot(app, WITH_FALLBACK, photo);
      await expectFailedJob(app, response, {
        http: 503,
        reason: 'quota',
        status: 'failed_provider',
      });
      expect(gemini.requests).toHaveLength(1);
    });

    it.each([
      { http: 500, status: 'INTERNAL', message: 'An internal error has occurred.' },
      { http: 503, status: 'UNAVAILABLE', message: 'The model is overloaded.' },
    ])('retries a $http once, then answers 503 provider_unavailable', async (fault) => {
      gemini.respondWith(GeminiReply.error(fault.http, fault.status, fault.message));
      const response = await shoot(app, PLAIN, photo);
      const row = await expectFailedJob(app, response, {
        http: 503,
        reason: 'provider_unavailable',
        status: 'failed_provider',
      });
      expect(gemini.requests).toHaveLength(2);
      expect(row.provider_message).toBe(fault.message);
    });

    it('succeeds when the retry does', async () => {
      gemini.enqueue(GeminiReply.quotaExceeded(), GeminiReply.image(answer));
      const response = await shoot(app, PLAIN, photo);
      expect(response.status).toBe(200);
      expect(gemini.requests).toHaveLength(2);
      const row = await jobRow(app, String(response.headers['x-job-id']));
      expect(row).toMatchObject({ status: 'completed', failure_reason: null });
    });

    it("uses the slot's fallback model for the third call, which can succeed", async () => {
      gemini.enqueue(
        GeminiReply.unavailable(),
        GeminiReply.unavailable(),
        GeminiReply.image(answer),
      );
      const response = await shoot(app, WITH_FALLBACK, photo);

      expect(response.status).toBe(200);
      expect(gemini.requests.map((request) => request.model)).toEqual([
        PRIMARY_MODEL,
        PRIMARY_MODEL,
        FALLBACK_MODEL,
      ]);
      expect(gemini.requests[2].model).toBe(FALLBACK_MODEL);
      const row = await jobRow(app, String(response.headers['x-job-id']));
      expect(row).toMatchObject({ status: 'completed', model: FALLBACK_MODEL });
      const meta = await sharp(response.body).metadata();
      expect({ format: meta.format, width: meta.width }).toEqual({ format: 'jpeg', width: 96 });
    });

    it('answers 503 when the fallback model fails too', async () => {
      gemini.respondWith(GeminiReply.error(500, 'INTERNAL', 'Internal error.'));
      const response = await shoot(app, WITH_FALLBACK, photo);
      await expectFailedJob(app, response, {
        http: 503,
        reason: 'provider_unavailable',
        status: 'failed_provider',
      });
      expect(gemini.requests.map((request) => request.model)).toEqual([
        PRIMARY_MODEL,
        PRIMARY_MODEL,
        FALLBACK_MODEL,
      ]);
    });

    it('retries only while 15 s remain: with a 10 s deadline a 503 is answered at once', async () => {
      await updateSettings(app, token, { sync_response_seconds: 10 });
      try {
        for (const slot of [PLAIN, WITH_FALLBACK]) {
          gemini.reset().respondWith(GeminiReply.unavailable());
          const response = await shoot(app, slot, photo);
          await expectFailedJob(app, response, {
            http: 503,
            reason: 'provider_unavailable',
            status: 'failed_provider',
          });
          expect(gemini.requests).toHaveLength(1);
        }
      } finally {
        await updateSettings(app, token, { sync_response_seconds: 48 });
      }
    });
  });

  it("records Gemini's usageMetadata on the job", async () => {
    gemini.respondWith(
      GeminiReply.image(answer, 'image/png', {
        usage: { promptTokenCount: 321, candidatesTokenCount: 654, totalTokenCount: 975 },
      }),
    );
    const response = await shoot(app, PLAIN, photo);
    expect(response.status).toBe(200);
    const row = await jobRow(app, String(response.headers['x-job-id']));
    expect(row.usage).toMatchObject({
      promptTokenCount: 321,
      candidatesTokenCount: 654,
      totalTokenCount: 975,
    });
  });

  it('never lets the provider key or the ingest password reach a log line, a body or a row', async () => {
    const wrongPassword = `${INGEST_PASSWORD}-but-wrong`;
    const bodies: string[] = [];
    const keep = (response: BoothResponse): BoothResponse => {
      bodies.push(response.body.toString('utf8'));
      return response;
    };

    // Google echoing the key back, in an error and in a refusal.
    gemini.enqueue(
      GeminiReply.error(400, 'INVALID_ARGUMENT', `API key ${GEMINI_KEY} is not valid here.`),
      GeminiReply.blocked('OTHER', `Blocked for key ${GEMINI_KEY}`),
      GeminiReply.image(answer),
    );
    const echoed = keep(await shoot(app, PLAIN, photo));
    expect(echoed.status).toBe(502);
    expect((await jobRow(app, echoed.json.job_id)).provider_message).toBe(
      'API key [redacted] is not valid here.',
    );
    const refused = keep(await shoot(app, PLAIN, photo));
    expect(refused.status).toBe(502);
    expect((await jobRow(app, refused.json.job_id)).provider_message).toBe(
      'Blocked for key [redacted]',
    );
    const completed = keep(await shoot(app, PLAIN, photo));
    expect(completed.status).toBe(200);
    const wrong = keep(
      await boothPost(`${app.url}/ingest/${PLAIN}`, {
        fields: { ...dslrFields(), password: wrongPassword },
        file: { bytes: photo },
      }),
    );
    expect(wrong.status).toBe(401);

    // The key and password were really in play.
    expect(gemini.requests).toHaveLength(3);
    expect(gemini.requests.every((request) => request.apiKey === GEMINI_KEY)).toBe(true);
    const logText = app.rawLogs.join('\n');
    expect(logText).toContain('ingest.failed');
    expect(logText).toContain('ingest.completed');

    for (const secret of [GEMINI_KEY, INGEST_PASSWORD, wrongPassword]) {
      expect(logText).not.toContain(secret);
      for (const body of bodies) expect(body).not.toContain(secret);
      const rows = await sql<{ text: string }>(
        app.databaseUrl,
        'SELECT row_to_json(job)::text AS text FROM job WHERE position($1 in row_to_json(job)::text) > 0',
        [secret],
      );
      expect(rows).toEqual([]);
    }
    expect(
      (await jobRow(app, String(completed.headers['x-job-id']))).client_fields,
    ).not.toHaveProperty('password');
  });
});

describe('ingest: provider unreachable', () => {
  let app: TestApp;

  beforeAll(async () => {
    // A port that was just free: nothing listens there, so connections are refused.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));

    app = await TestApp.start({
      env: { GEMINI_BASE_URL: `http://127.0.0.1:${port}`, GEMINI_API_KEY: GEMINI_KEY },
      clock: new RunningClock(),
    });
    const token = await configureIngest(app);
    await configureGeminiSlot(app, token, PLAIN);
  });

  afterAll(async () => {
    await app?.close();
  });

  it('answers 503 network when the connection is refused, after one retry', async () => {
    const response = await shoot(app, PLAIN, await jpeg(320, 240));
    await expectFailedJob(app, response, {
      http: 503,
      reason: 'network',
      status: 'failed_provider',
    });
    // Nothing answers, so the driver's own call log is where the retry shows.
    const calls = app.logs.filter((line) => line.event === 'provider.gemini.call');
    expect(calls.map((line) => line.outcome)).toEqual(['network', 'network']);
  });
});
