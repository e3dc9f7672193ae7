// Broken providers seen from the booth (SPEC §4, §5): each fault goes through the real ingest
// route, the real driver and its HTTP client, to a fake that speaks the provider's protocol but
// delivers its answer badly — reset mid-body, non-HTTP bytes, 100 MB, a drip, silence.
import { readdir } from 'node:fs/promises';
import * as path from 'node:path';
import type { GeminiBehaviour, TrackedBehaviour } from './fakes/fake-gemini';
import { FakeGemini, GeminiReply } from './fakes/fake-gemini';
import type { Transmission, Transmit } from './fakes/fake-http';
import { imageAnswer, Wire } from './fakes/fake-http';
import type { TurbotextBehaviour } from './fakes/fake-turbotext';
import { FakeTurbotext, TurbotextReply } from './fakes/fake-turbotext';
import type { BoothResponse } from './support/booth';
import { sql } from './support/database';
import { jpeg, png } from './support/images';
import {
  configureGeminiSlot,
  configureIngest,
  expectFailedJob as expectFailedJobIn,
  hasResultFiles,
  jobRow,
  RawJob,
  RunningClock,
  shoot,
  timedShot,
  TimedShot,
  updateSettings,
} from './support/ingest-harness';
import { saveSlot, tempFiles } from './support/ingest-setup';
import { freePort } from './support/server-process';
import { TestApp } from './support/test-app';

const GEMINI_KEY = 'AIzaSyProviderFaultsKey-7f3e9a0c21';
const TURBOTEXT_KEY = 'tt-provider-faults-key-5b8d2e';
const SYNC_SECONDS = 10;
/** How late the booth's answer may be after the deadline: behaviour, not a speed target. */
const ANSWER_GRACE_MS = 1_500;
const MB = 1024 * 1024;
/** The first bytes of a TLS 1.2 ServerHello record: what an HTTPS port says to plain HTTP. */
const TLS_SERVER_HELLO = Buffer.from('160303007a0200007603035f1a2b3c4d5e6f', 'hex');

const GEMINI = 'slot-001';
const TURBOTEXT = 'slot-002';
const TURBOTEXT_PROMPT = 'Paint them as a watercolour postcard';

/** Slots of the deadline batch, one fault each, told apart by model (Gemini) or prompt (Turbotext). */
const SLOW = {
  geminiDripLate: { slot: 'slot-005', model: 'gemini-drips-past-the-deadline' },
  geminiDripInTime: { slot: 'slot-006', model: 'gemini-drips-in-time' },
  geminiSilent: { slot: 'slot-007', model: 'gemini-never-sends-headers' },
  turbotextResultDrip: { slot: 'slot-008', prompt: 'result drips' },
  turbotextResultSilent: { slot: 'slot-009', prompt: 'result never sends headers' },
  turbotextCreateSilent: { slot: 'slot-010', prompt: 'create_queue never answers' },
  turbotextPollDrip: { slot: 'slot-011', prompt: 'get_result drips' },
} as const;

describe('ingest: providers failing on the wire', () => {
  let gemini: FakeGemini;
  let turbotext: FakeTurbotext;
  let app: TestApp;
  let token: string;
  let photo: Buffer;
  let edited: Buffer;

  const turbotextSlot = (slotId: string, prompt: string) =>
    saveSlot(app, token, slotId, {
      display_name: `Turbotext ${slotId}`,
      provider: 'turbotext',
      operation: 'image_edit',
      is_active: true,
      settings: { prompt },
      template_media: [],
    });

  /** Anything a job could leave behind: upload temp files, half-written results. */
  async function leftovers(): Promise<string[]> {
    const found = (await tempFiles(app)).map((name) => `tmp/${name}`);
    const walk = async (folder: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(path.join(app.config.mediaRoot, folder), { withFileTypes: true });
      } catch {
        return;
      }
      for (const entry of entries) {
        const relative = path.join(folder, entry.name);
        if (entry.isDirectory()) await walk(relative);
        else if (entry.name.startsWith('.') || entry.name.endsWith('.tmp')) found.push(relative);
      }
    };
    await walk('results');
    return found;
  }

  /** Faults may end at the deadline: the job is final within the answer's grace. */
  function expectFailedJob(
    response: BoothResponse,
    expected: { http: number; reason: string; status: string },
  ): Promise<RawJob> {
    return expectFailedJobIn(app, response, { ...expected, graceMs: ANSWER_GRACE_MS });
  }

  /** The job's temporary links for Turbotext were released when it ended. */
  async function expectLinksReleased(jobId: string): Promise<void> {
    const rows = await sql<{ cleaned_at: Date | null }>(
      app.databaseUrl,
      'SELECT cleaned_at FROM media_object WHERE job_id = $1',
      [jobId],
    );
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row.cleaned_at).toBeInstanceOf(Date);
  }

  async function expectCompleted(response: BoothResponse): Promise<RawJob> {
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('image/jpeg');
    const row = await jobRow(app, String(response.headers['x-job-id']));
    expect(row).toMatchObject({ status: 'completed', failure_reason: null });
    expect(hasResultFiles(app, row.slot_id, row.id)).toBe(true);
    return row;
  }

  beforeAll(async () => {
    gemini = await FakeGemini.start({ apiKey: GEMINI_KEY });
    turbotext = await FakeTurbotext.start({ apiKey: TURBOTEXT_KEY });
    const port = await freePort();
    app = await TestApp.start({
      port,
      clock: new RunningClock(),
      env: {
        PUBLIC_MEDIA_BASE_URL: `http://127.0.0.1:${port}`,
        GEMINI_BASE_URL: gemini.baseUrl,
        TURBOTEXT_BASE_URL: turbotext.baseUrl,
        TURBOTEXT_API_KEY: TURBOTEXT_KEY,
      },
    });
    token = await configureIngest(app, { geminiKey: GEMINI_KEY });
    await configureGeminiSlot(app, token, GEMINI);
    await turbotextSlot(TURBOTEXT, TURBOTEXT_PROMPT);
    photo = await jpeg(640, 480);
    edited = await png(96, 64);
  });

  beforeEach(() => {
    gemini.reset();
    turbotext.reset();
  });

  afterEach(async () => {
    expect(await leftovers()).toEqual([]);
  });

  afterAll(async () => {
    await app?.close();
    await gemini?.close();
    await turbotext?.close();
  });

  describe('Gemini', () => {
    const image = (): GeminiBehaviour => GeminiReply.image(edited);

    it.each<[string, () => TrackedBehaviour]>([
      [
        'a connection reset mid-body',
        () => GeminiReply.cutOff(image(), { bytes: 60, ending: 'reset' }),
      ],
      [
        'a connection closed mid-body',
        () => GeminiReply.cutOff(image(), { bytes: 60, ending: 'close' }),
      ],
      ['TLS bytes instead of HTTP', () => GeminiReply.wire(Wire.raw(TLS_SERVER_HELLO))],
      [
        'random bytes instead of HTTP',
        () => GeminiReply.wire(Wire.raw(Buffer.from([0x00, 0xff, 0x13, 0x37, 0x0a, 0x0d]))),
      ],
    ])('%s → one retry, then 503 network', async (_, fault) => {
      const behaviour = fault();
      gemini.respondWith(behaviour);

      const response = await shoot(app, GEMINI, photo);

      await expectFailedJob(response, { http: 503, reason: 'network', status: 'failed_provider' });
      expect(gemini.requests).toHaveLength(2);
      expect(behaviour.transmissions.every((sent) => !sent.finished)).toBe(true);
    });

    it('a reset answer followed by a sound one → the retry succeeds', async () => {
      gemini.enqueue(GeminiReply.cutOff(image(), { bytes: 60 }), image());

      const response = await shoot(app, GEMINI, photo);

      await expectCompleted(response);
      expect(gemini.requests).toHaveLength(2);
    });

    it.each([
      ['declared in Content-Length', true],
      ['streamed without a length', false],
    ])(
      'a 120 MB answer (%s) → 502 bad_response, not retried, not read to the end',
      async (_, declareLength) => {
        const huge = GeminiReply.huge(120 * MB, { declareLength });
        gemini.respondWith(huge);

        const response = await shoot(app, GEMINI, photo);

        await expectFailedJob(response, {
          http: 502,
          reason: 'bad_response',
          status: 'failed_provider',
        });
        expect(gemini.requests).toHaveLength(1);
        const [sent] = huge.transmissions;
        expect(sent.finished).toBe(false);
        expect(sent.sentBytes).toBeLessThan(90 * MB);
      },
    );
  });

  describe('Turbotext', () => {
    const result = () => imageAnswer(edited, 'image/png');
    const reset = () => Wire.cutOff(result(), { bytes: 30, ending: 'reset' });

    it('a result download reset once → downloaded again, one queue, 200', async () => {
      const download = Wire.inTurn(reset(), Wire.whole(result()));
      turbotext.respondWith({ result: TurbotextReply.imageVia(download) });

      const response = await shoot(app, TURBOTEXT, photo);

      const row = await expectCompleted(response);
      expect(turbotext.queues).toHaveLength(1);
      expect(download.transmissions.map((sent) => sent.finished)).toEqual([false, true]);
      await expectLinksReleased(row.id);
    });

    it.each<[string, () => Transmit]>([
      ['reset mid-body', reset],
      ['answering TLS bytes', () => Wire.raw(TLS_SERVER_HELLO)],
    ])('a result download %s every time → 503 network', async (_, fault) => {
      const download = fault();
      turbotext.respondWith({ result: TurbotextReply.imageVia(download) });

      const response = await shoot(app, TURBOTEXT, photo);

      const row = await expectFailedJob(response, {
        http: 503,
        reason: 'network',
        status: 'failed_provider',
      });
      // Three downloads per queue; the second queue is SPEC's one retry of a network failure.
      expect(turbotext.queues).toHaveLength(2);
      expect(download.transmissions).toHaveLength(6);
      await expectLinksReleased(row.id);
    });

    it('a get_result answer cut off mid-body → polled again, 200', async () => {
      turbotext.respondWith({
        polls: [TurbotextReply.cutOff(TurbotextReply.reconnect(), { bytes: 5 })],
        result: TurbotextReply.image(edited),
      });

      const response = await shoot(app, TURBOTEXT, photo);

      await expectCompleted(response);
      expect(turbotext.queues).toHaveLength(1);
      expect(turbotext.requestsFor('get_result')).toHaveLength(2);
    });

    it('a 100 MB result → 502 bad_response, not read to the end', async () => {
      const huge = Wire.huge({ totalBytes: 100 * MB, contentType: 'image/png' });
      turbotext.respondWith({ result: TurbotextReply.imageVia(huge) });

      const response = await shoot(app, TURBOTEXT, photo);

      await expectFailedJob(response, {
        http: 502,
        reason: 'bad_response',
        status: 'failed_provider',
      });
      expect(turbotext.queues).toHaveLength(1);
      const [sent] = huge.transmissions;
      expect(sent.finished).toBe(false);
      expect(sent.sentBytes).toBeLessThan(75 * MB);
    });

    it.each([
      ['declared image/png', 'image/png'],
      ['declared application/octet-stream', 'application/octet-stream'],
    ])('a result that is an HTML page (%s) → 502 bad_response', async (_, contentType) => {
      const page = Buffer.from('<html><body>Изображение не найдено</body></html>');
      turbotext.respondWith({
        result: TurbotextReply.imageVia(Wire.whole(imageAnswer(page, contentType))),
      });

      const response = await shoot(app, TURBOTEXT, photo);

      await expectFailedJob(response, {
        http: 502,
        reason: 'bad_response',
        status: 'failed_provider',
      });
      expect(turbotext.queues).toHaveLength(1);
    });
  });

  /**
   * Every slow fault runs at once, one per slot, so the suite waits for the 10 s deadline once;
   * each test then checks its own shot.
   */
  describe(`slow providers and the ${SYNC_SECONDS} s deadline`, () => {
    const shots = new Map<string, Promise<TimedShot>>();
    let geminiDripLate: TrackedBehaviour;
    let turbotextResultDrip: Transmit;
    let turbotextPollDrip: ReturnType<typeof TurbotextReply.drip>;

    const timed = (slotId: string): Promise<TimedShot> => timedShot(app, slotId, photo);

    /** Answered `timeout` at the deadline, not before it and not much after it. */
    async function expectTimedOut(slotId: string): Promise<TimedShot & { row: RawJob }> {
      const shot = await shots.get(slotId)!;
      const row = await expectFailedJob(shot.response, {
        http: 504,
        reason: 'timeout',
        status: 'failed_timeout',
      });
      const elapsed = shot.answeredAt - shot.sentAt;
      expect(elapsed).toBeGreaterThanOrEqual(SYNC_SECONDS * 1000 - 100);
      expect(elapsed).toBeLessThanOrEqual(SYNC_SECONDS * 1000 + ANSWER_GRACE_MS);
      return { ...shot, row };
    }

    /** The provider connection was dropped by the server at the deadline, not left open. */
    function expectHungUp(sent: Transmission | undefined, shot: TimedShot): void {
      expect(sent).toBeDefined();
      expect(sent!.finished).toBe(false);
      expect(sent!.closedEarlyAt).toBeDefined();
      expect(sent!.closedEarlyAt!).toBeLessThanOrEqual(shot.answeredAt + 500);
    }

    beforeAll(async () => {
      await updateSettings(app, token, { sync_response_seconds: SYNC_SECONDS });
      gemini.reset();
      turbotext.reset();
      for (const fault of [SLOW.geminiDripLate, SLOW.geminiDripInTime, SLOW.geminiSilent]) {
        await configureGeminiSlot(app, token, fault.slot, { model: fault.model });
      }
      for (const fault of [
        SLOW.turbotextResultDrip,
        SLOW.turbotextResultSilent,
        SLOW.turbotextCreateSilent,
        SLOW.turbotextPollDrip,
      ]) {
        await turbotextSlot(fault.slot, fault.prompt);
      }

      // ~600 bytes of JSON: one byte per 200 ms ends minutes after the deadline; 20 bytes per
      // 100 ms ends in about 3 s.
      geminiDripLate = GeminiReply.drip(GeminiReply.image(edited), { intervalMs: 200 });
      const geminiByModel: Record<string, GeminiBehaviour> = {
        [SLOW.geminiDripLate.model]: geminiDripLate,
        [SLOW.geminiDripInTime.model]: GeminiReply.drip(GeminiReply.image(edited), {
          bytesPerTick: 20,
          intervalMs: 100,
        }),
        [SLOW.geminiSilent.model]: GeminiReply.wire(Wire.silent()),
      };
      gemini.respondWith((exchange) => geminiByModel[exchange.request.model ?? ''](exchange));

      turbotextResultDrip = Wire.drip(imageAnswer(edited, 'image/png'), { intervalMs: 200 });
      turbotextPollDrip = TurbotextReply.drip(TurbotextReply.echo(), { intervalMs: 200 });
      const byPrompt =
        (
          behaviours: Partial<Record<string, TurbotextBehaviour>>,
          otherwise: TurbotextBehaviour,
        ): TurbotextBehaviour =>
        (exchange) =>
          (behaviours[exchange.queue.fields.content ?? ''] ?? otherwise)(exchange);
      turbotext.respondWith({
        create: byPrompt(
          { [SLOW.turbotextCreateSilent.prompt]: TurbotextReply.hang() },
          TurbotextReply.accept(),
        ),
        result: byPrompt(
          {
            [SLOW.turbotextResultDrip.prompt]: TurbotextReply.imageVia(turbotextResultDrip),
            [SLOW.turbotextResultSilent.prompt]: TurbotextReply.imageVia(Wire.silent()),
            [SLOW.turbotextPollDrip.prompt]: turbotextPollDrip,
          },
          TurbotextReply.echo(),
        ),
      });

      for (const fault of Object.values(SLOW)) shots.set(fault.slot, timed(fault.slot));
      await Promise.allSettled(shots.values());
    });

    afterAll(async () => {
      await updateSettings(app, token, { sync_response_seconds: 48 });
    });

    it('Gemini dripping its answer past the deadline → 504 timeout at the deadline, call dropped', async () => {
      const shot = await expectTimedOut(SLOW.geminiDripLate.slot);
      expectHungUp(geminiDripLate.transmissions[0], shot);
      expect(geminiDripLate.transmissions).toHaveLength(1);
    });

    it('Gemini dripping an answer that ends before the deadline → 200', async () => {
      const shot = await shots.get(SLOW.geminiDripInTime.slot)!;
      await expectCompleted(shot.response);
      expect(shot.answeredAt - shot.sentAt).toBeGreaterThan(1_000);
    });

    it('Gemini accepting the call and never sending headers → 504 timeout at the deadline', async () => {
      await expectTimedOut(SLOW.geminiSilent.slot);
    });

    it('Turbotext result download dripping past the deadline → 504, download dropped', async () => {
      const shot = await expectTimedOut(SLOW.turbotextResultDrip.slot);
      expectHungUp(turbotextResultDrip.transmissions[0], shot);
      await expectLinksReleased(shot.row.id);
    });

    it('Turbotext result download never sending headers → 504 timeout at the deadline', async () => {
      const shot = await expectTimedOut(SLOW.turbotextResultSilent.slot);
      await expectLinksReleased(shot.row.id);
    });

    it('Turbotext create_queue never answering → 504 timeout, no queue id recorded', async () => {
      const shot = await expectTimedOut(SLOW.turbotextCreateSilent.slot);
      expect(shot.row.provider_job_reference).toBeNull();
      await expectLinksReleased(shot.row.id);
    });

    it('Turbotext get_result dripping past the deadline → 504, poll dropped', async () => {
      const shot = await expectTimedOut(SLOW.turbotextPollDrip.slot);
      expectHungUp(turbotextPollDrip.transmissions[0], shot);
      await expectLinksReleased(shot.row.id);
    });
  });
});
