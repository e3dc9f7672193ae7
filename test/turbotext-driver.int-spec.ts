import { Test } from '@nestjs/testing';
import sharp from 'sharp';
import { AppLogger } from '../src/common/app-logger';
import { loadConfig } from '../src/config/app-config';
import { APP_CONFIG } from '../src/config/config.tokens';
import type {
  ImageMime,
  ProviderContext,
  ProviderImage,
  TemplateImage,
} from '../src/providers/provider-driver';
import { ProviderError } from '../src/providers/provider-driver';
import {
  DEFAULT_MAX_RESULT_BYTES,
  TurbotextDriver,
} from '../src/providers/turbotext/turbotext.driver';
import type { ResultOptions, TurbotextScenario } from './fakes/fake-turbotext';
import { FakeTurbotext, GENERATED_PATH, TurbotextReply } from './fakes/fake-turbotext';
import type { Transmit } from './fakes/fake-http';
import { imageAnswer, Wire } from './fakes/fake-http';

/** The first bytes of a TLS 1.2 ServerHello record: what an HTTPS port says to plain HTTP. */
const TLS_SERVER_HELLO = Buffer.from('160303007a0200007603035f1a2b3c4d5e6f', 'hex');

const API_KEY = 'tt-live-FakeKeyForTests-0123456789';
const POLL_MS = 20;

async function image(format: 'jpeg' | 'png', width: number, height: number, colour: string) {
  return sharp({ create: { width, height, channels: 3, background: colour } })
    .toFormat(format)
    .toBuffer();
}

async function rejection(promise: Promise<unknown>): Promise<ProviderError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ProviderError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * When the driver sent each get_result, read at the `fetch` call: the fake only sees arrivals,
 * which lag behind under load since both share this process.
 */
function pollsSent(): number[] {
  const original = globalThis.fetch;
  const sent: number[] = [];
  jest.spyOn(globalThis, 'fetch').mockImplementation((input: any, init?: RequestInit) => {
    if (typeof init?.body === 'string' && init.body.includes('do=get_result')) {
      sent.push(Date.now());
    }
    return original(input, init);
  });
  return sent;
}

describe('TurbotextDriver against a Turbotext-speaking server', () => {
  let turbotext: FakeTurbotext;
  let driver: TurbotextDriver;
  let logLines: string[];
  let references: string[];
  let photo: ProviderImage;
  let style: TemplateImage;
  let base: TemplateImage;
  let edited: Buffer;

  const template = async (id: string, kind: 'style' | 'base', colour: string) => {
    const bytes = await image('png', 8, 8, colour);
    return { id, kind, bytes, mimeType: 'image/png' as ImageMime, width: 8, height: 8 };
  };

  function context(overrides: Partial<ProviderContext> = {}): ProviderContext {
    return {
      jobId: 'job-1',
      slotId: 'slot-001',
      operation: 'style_transfer',
      settings: { prompt: 'Van Gogh' },
      photo,
      templates: [base, style],
      apiKey: API_KEY,
      deadlineAt: new Date(Date.now() + 30_000),
      // The fake's own short-lived upload store stands in for /public/provider-media links.
      publicMediaUrl: (item) => Promise.resolve(turbotext.upload(item.bytes, item.mimeType)),
      onProviderReference: (reference) => references.push(reference),
      ...overrides,
    };
  }

  const call = (overrides: Partial<ProviderContext> = {}, signal = new AbortController().signal) =>
    driver.process(context(overrides), signal);

  function makeDriver(options: { maxResultBytes?: number } = {}) {
    const config = loadConfig({ TURBOTEXT_BASE_URL: turbotext.baseUrl });
    return new TurbotextDriver(config, new AppLogger('debug', (line) => logLines.push(line)), {
      pollIntervalMs: POLL_MS,
      ...options,
    });
  }

  beforeAll(async () => {
    photo = {
      bytes: await image('jpeg', 30, 20, '#3366aa'),
      mimeType: 'image/jpeg',
      width: 30,
      height: 20,
    };
    style = await template('t-style', 'style', '#aa3366');
    base = await template('t-base', 'base', '#66aa33');
    edited = await image('png', 12, 8, '#ffcc00');
  });

  beforeEach(async () => {
    turbotext = await FakeTurbotext.start({ apiKey: API_KEY });
    logLines = [];
    references = [];
    driver = makeDriver();
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await turbotext.close();
  });

  describe('sends each operation with its method and field roles', () => {
    it('style_transfer → mix_images: the photo is the target, the style template is `url`', async () => {
      const result = await call();

      const [create] = turbotext.requests;
      expect(create.httpMethod).toBe('POST');
      expect(create.path).toBe('/api_ai/mix_images');
      expect(create.contentType).toBe('application/x-www-form-urlencoded');
      expect(create.authorization).toBe(`Bearer ${API_KEY}`);
      expect(create.fields).toEqual({
        do: 'create_queue',
        url_image_target: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/uploads\//),
        url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/uploads\//),
        content: 'Van Gogh',
      });
      // The fake downloaded both links, as Turbotext does, and got the right images.
      const queue = turbotext.queues[0];
      expect(queue.inputs.url_image_target).toMatchObject({ status: 200, bytes: photo.bytes });
      expect(queue.inputs.url).toMatchObject({ status: 200, bytes: style.bytes });
      expect(result.bytes.equals(photo.bytes)).toBe(true);
      expect(result.mimeType).toBe('image/jpeg');
      expect(result.usage).toEqual({ method: 'mix_images', queue_id: queue.id, polls: 1 });
    });

    it('style_transfer without a prompt sends no `content`', async () => {
      await call({ settings: {} });

      expect(turbotext.requests[0].fields).not.toHaveProperty('content');
    });

    it('identity_transfer → deepfake_photo: the base photo is `url`, the guest face the target', async () => {
      await call({ operation: 'identity_transfer', settings: {} });
      await call({ operation: 'identity_transfer', settings: { face_restore: false } });

      const [first, second] = turbotext.requestsFor('create_queue');
      expect(first.path).toBe('/api_ai/deepfake_photo');
      expect(first.fields).toMatchObject({ do: 'create_queue', face_restore: 'True' });
      expect(second.fields.face_restore).toBe('False');
      expect(turbotext.queues[0].inputs.url.bytes).toEqual(base.bytes);
      expect(turbotext.queues[0].inputs.url_image_target.bytes).toEqual(photo.bytes);
    });

    it('image_edit → generate_image2image: the photo is `url`, with prompt and options', async () => {
      await call({ operation: 'image_edit', settings: { prompt: 'A beach' }, templates: [] });
      await call({
        operation: 'image_edit',
        settings: { prompt: 'A beach', strength: 65, negative_prompt: 'blur', seed: 7, scale: 9 },
        templates: [],
      });

      const [plain, tuned] = turbotext.requestsFor('create_queue');
      expect(plain.path).toBe('/api_ai/generate_image2image');
      expect(plain.fields).toEqual({
        do: 'create_queue',
        url: expect.any(String),
        content: 'A beach',
        strength: '40',
      });
      expect(tuned.fields).toMatchObject({
        strength: '65',
        negative_prompt: 'blur',
        seed: '7',
        scale: '9',
      });
      expect(turbotext.queues[0].inputs.url.bytes).toEqual(photo.bytes);
    });

    it('refuses a slot without its required template before calling Turbotext', async () => {
      const error = await rejection(call({ templates: [base] }));

      expect(error).toMatchObject({ reason: 'provider_error', retryable: false });
      expect(turbotext.requests).toHaveLength(0);
    });
  });

  it('polls with the queue id while Turbotext says reconnect, and reports the id first', async () => {
    turbotext.enqueue({ reconnects: 3, result: TurbotextReply.image(edited) });
    let pollsWhenReported = -1;

    const result = await call({
      onProviderReference: (reference) => {
        references.push(reference);
        pollsWhenReported = turbotext.requestsFor('get_result').length;
      },
    });

    const queueId = turbotext.queues[0].id;
    expect(references).toEqual([queueId]);
    expect(pollsWhenReported).toBe(0);
    const polls = turbotext.requestsFor('get_result');
    expect(polls).toHaveLength(4);
    for (const poll of polls) {
      expect(poll.path).toBe('/api_ai/mix_images');
      expect(poll.fields).toEqual({ do: 'get_result', queueid: queueId });
      expect(poll.authorization).toBe(`Bearer ${API_KEY}`);
    }
    expect(result.bytes.equals(edited)).toBe(true);
    expect(result.mimeType).toBe('image/png');
  });

  it.each<[string, ResultOptions]>([
    ['an absolute top-level uploaded_image', {}],
    ['a root-relative uploaded_image', { relative: true }],
    ['a relative uploaded_image without a leading slash', { relative: 'noSlash' }],
    ['data.uploaded_image', { field: 'data.uploaded_image', relative: true }],
    ['data.image[0]', { field: 'data.image' }],
    ['a relative data.image[0]', { field: 'data.image', relative: true }],
  ])('downloads the result named by %s', async (_, options) => {
    turbotext.enqueue({
      reconnects: 1,
      result: TurbotextReply.image(edited, 'image/png', options),
    });

    const result = await call();

    expect(result.bytes.equals(edited)).toBe(true);
    const results = turbotext.downloads.filter(({ path }) => path.startsWith(GENERATED_PATH));
    expect(results).toEqual([{ path: expect.any(String), status: 200 }]);
  });

  it.each<[string, TurbotextScenario, Record<string, unknown>]>([
    [
      'a refused create_queue',
      { create: TurbotextReply.refused('Недостаточно средств на балансе') },
      {
        reason: 'provider_error',
        retryable: false,
        providerMessage: 'Недостаточно средств на балансе',
      },
    ],
    [
      'a queue that fails',
      { reconnects: 1, result: TurbotextReply.refused('Ошибка генерации') },
      { reason: 'provider_error', retryable: false, providerMessage: 'Ошибка генерации' },
    ],
    [
      'forbidden content',
      { result: TurbotextReply.forbidden() },
      { reason: 'blocked', retryable: false, finishReason: 'forbidden_content' },
    ],
    [
      'HTTP 502 on create_queue',
      { create: TurbotextReply.httpError(502, '<html>Bad Gateway</html>') },
      { reason: 'provider_unavailable', retryable: true, httpStatus: 502 },
    ],
    [
      'HTTP 429',
      { create: TurbotextReply.httpError(429) },
      { reason: 'quota', retryable: true, httpStatus: 429 },
    ],
    [
      'HTTP 403',
      { create: TurbotextReply.httpError(403) },
      { reason: 'provider_error', retryable: false, httpStatus: 403 },
    ],
    [
      'HTTP 5xx on every poll',
      { result: TurbotextReply.httpError(503) },
      { reason: 'provider_unavailable', retryable: true, httpStatus: 503 },
    ],
    [
      'garbage on create_queue',
      { create: TurbotextReply.garbage() },
      { reason: 'bad_response', retryable: false },
    ],
    [
      'garbage on get_result',
      { result: TurbotextReply.garbage() },
      { reason: 'bad_response', retryable: false },
    ],
    [
      'a done answer without an image',
      { result: TurbotextReply.noImage() },
      { reason: 'bad_response', retryable: false },
    ],
    [
      'a result URL that 404s',
      { result: TurbotextReply.missingImage({ relative: true }) },
      { reason: 'bad_response', retryable: false, httpStatus: 404 },
    ],
  ])('maps %s to a typed failure', async (_, scenario, expected) => {
    turbotext.enqueue(scenario);

    const error = await rejection(call());

    const { reason, retryable, ...details } = expected;
    expect({ reason: error.reason, retryable: error.retryable }).toEqual({ reason, retryable });
    expect(error.details).toMatchObject(details);
  });

  it('refuses a wrong key as provider_error (HTTP 401)', async () => {
    const error = await rejection(call({ apiKey: 'some-other-key-1234' }));

    expect(error).toMatchObject({ reason: 'provider_error', retryable: false });
    expect(error.details.httpStatus).toBe(401);
  });

  it('rides out a transient poll failure instead of giving up a running queue', async () => {
    turbotext.enqueue({
      reconnects: 1,
      polls: [TurbotextReply.httpError(502), TurbotextReply.reconnect()],
      result: TurbotextReply.image(edited),
    });

    const result = await call();

    expect(result.bytes.equals(edited)).toBe(true);
    expect(turbotext.requestsFor('create_queue')).toHaveLength(1);
    expect(turbotext.requestsFor('get_result')).toHaveLength(4);
  });

  it('gives up after three transient poll failures in a row', async () => {
    turbotext.enqueue({ result: TurbotextReply.httpError(500) });

    const error = await rejection(call());

    expect(error).toMatchObject({ reason: 'provider_unavailable', retryable: true });
    expect(turbotext.requestsFor('get_result')).toHaveLength(3);
  });

  it('refuses a result bigger than the cap as bad_response', async () => {
    driver = makeDriver({ maxResultBytes: 64 });
    turbotext.enqueue({ result: TurbotextReply.image(edited) });

    const error = await rejection(call());

    expect(edited.length).toBeGreaterThan(64);
    expect(error).toMatchObject({ reason: 'bad_response', retryable: false });
  });

  it('reports a refused connection as a retryable network failure', async () => {
    const closed = turbotext;
    turbotext = await FakeTurbotext.start();
    driver = new TurbotextDriver(
      loadConfig({ TURBOTEXT_BASE_URL: closed.baseUrl }),
      new AppLogger('debug', (line) => logLines.push(line)),
      { pollIntervalMs: POLL_MS },
    );
    await closed.close();

    const error = await rejection(call());

    expect(error).toMatchObject({ reason: 'network', retryable: true });
    expect(error.message).toContain('ECONNREFUSED');
  });

  it('stops polling at once when the signal aborts, as a timeout', async () => {
    turbotext.enqueue({ reconnects: Infinity });
    const sent = pollsSent();
    const deadline = new AbortController();
    let abortedAt = Infinity;
    setTimeout(() => {
      abortedAt = Date.now();
      deadline.abort();
    }, 150);
    const started = Date.now();

    const error = await rejection(call({}, deadline.signal));

    expect(error).toMatchObject({ reason: 'timeout', retryable: false });
    expect(Date.now() - started).toBeLessThan(1_000);
    await sleep(POLL_MS * 10);
    expect(sent.length).toBeGreaterThan(0);
    for (const at of sent) expect(at).toBeLessThanOrEqual(abortedAt);
  });

  it('abandons a poll in flight when the signal aborts', async () => {
    turbotext.enqueue({ polls: [TurbotextReply.hang()] });
    const deadline = new AbortController();
    const pending = rejection(call({}, deadline.signal));
    await turbotext.waitForRequests(2);
    const started = Date.now();
    deadline.abort();

    const error = await pending;

    expect(error).toMatchObject({ reason: 'timeout', retryable: false });
    expect(Date.now() - started).toBeLessThan(500);
    await sleep(POLL_MS * 5);
    expect(turbotext.requestsFor('get_result')).toHaveLength(1);
  });

  it('never polls at or after deadlineAt, even when the signal does not fire', async () => {
    turbotext.enqueue({ reconnects: Infinity });
    const sent = pollsSent();
    const deadlineAt = new Date(Date.now() + 400);

    const error = await rejection(call({ deadlineAt }));

    expect(error).toMatchObject({ reason: 'timeout', retryable: false });
    expect(error.message).toContain('deadline');
    expect(Date.now() - deadlineAt.getTime()).toBeLessThan(300);
    const sentBefore = sent.length;
    expect(sentBefore).toBeGreaterThan(3);
    // The driver keeps a 25 ms margin before the deadline, so a preempted tick between its check
    // and the send still lands before it.
    for (const at of sent) expect(at).toBeLessThan(deadlineAt.getTime());
    await sleep(POLL_MS * 10);
    expect(sent).toHaveLength(sentBefore);
  });

  it('gives up a hanging poll at deadlineAt', async () => {
    turbotext.enqueue({ polls: [TurbotextReply.hang()] });
    const deadlineAt = new Date(Date.now() + 300);

    const error = await rejection(call({ deadlineAt }));

    expect(error).toMatchObject({ reason: 'timeout', retryable: false });
    expect(Date.now() - deadlineAt.getTime()).toBeLessThan(300);
  });

  it('sends nothing when the deadline has already passed', async () => {
    const error = await rejection(call({ deadlineAt: new Date(Date.now() - 1) }));

    expect(error).toMatchObject({ reason: 'timeout', retryable: false });
    expect(turbotext.requests).toHaveLength(0);
  });

  it('never lets the API key reach an error or a log line', async () => {
    turbotext.enqueue({ create: TurbotextReply.refused(`Ключ ${API_KEY} заблокирован`) });

    const error = await rejection(call());

    expect(error.details.providerMessage).toBe('Ключ [redacted] заблокирован');
    expect(logLines.length).toBeGreaterThan(0);
    expect([error.message, JSON.stringify(error.details), ...logLines].join('\n')).not.toContain(
      API_KEY,
    );
  });

  describe('faults on the wire', () => {
    const result = () => imageAnswer(edited, 'image/png');
    const reset = () => Wire.cutOff(result(), { bytes: 20, ending: 'reset' });

    it('downloads the result again after a reset instead of queueing the job twice', async () => {
      const download = Wire.inTurn(reset(), Wire.whole(result()));
      turbotext.enqueue({ result: TurbotextReply.imageVia(download) });

      const answer = await call();

      expect(answer.bytes.equals(edited)).toBe(true);
      expect(turbotext.requestsFor('create_queue')).toHaveLength(1);
      expect(download.transmissions.map((sent) => sent.finished)).toEqual([false, true]);
    });

    it.each<[string, () => Transmit, string]>([
      ['reset mid-body', reset, 'ECONNRESET'],
      [
        'closed mid-body',
        () => Wire.cutOff(result(), { bytes: 20, ending: 'close' }),
        'UND_ERR_SOCKET',
      ],
      ['answered with TLS bytes', () => Wire.raw(TLS_SERVER_HELLO), 'HPE_'],
    ])(
      'reports a result download %s three times as a retryable network failure, one queue',
      async (_, transmit, code) => {
        const download = transmit();
        turbotext.enqueue({ result: TurbotextReply.imageVia(download) });

        const error = await rejection(call());

        expect(error).toMatchObject({ reason: 'network', retryable: true });
        expect(error.message).toContain(code);
        expect(download.transmissions).toHaveLength(3);
        expect(turbotext.requestsFor('create_queue')).toHaveLength(1);
      },
    );

    it('rides out a get_result answer cut off mid-body', async () => {
      turbotext.enqueue({
        polls: [TurbotextReply.cutOff(TurbotextReply.reconnect(), { bytes: 5 })],
        result: TurbotextReply.image(edited),
      });

      const answer = await call();

      expect(answer.bytes.equals(edited)).toBe(true);
      expect(turbotext.requestsFor('get_result')).toHaveLength(2);
    });

    it.each([
      ['declared in Content-Length', true],
      ['streamed without a length', false],
    ])(
      'refuses a 100 MB result (%s) as bad_response without reading it all',
      async (_, declareLength) => {
        const huge = Wire.huge({
          totalBytes: 100 * 1024 * 1024,
          contentType: 'image/png',
          declareLength,
        });
        turbotext.enqueue({ result: TurbotextReply.imageVia(huge) });

        const error = await rejection(call());

        expect(error).toMatchObject({ reason: 'bad_response', retryable: false });
        const [sent] = huge.transmissions;
        expect(sent.finished).toBe(false);
        expect(sent.sentBytes).toBeLessThan(DEFAULT_MAX_RESULT_BYTES + 16 * 1024 * 1024);
      },
    );

    it('refuses a result that is not an image as bad_response', async () => {
      const page = Buffer.from('<html><body>Файл не найден</body></html>');
      turbotext.enqueue({
        result: TurbotextReply.imageVia(Wire.whole(imageAnswer(page, 'application/octet-stream'))),
      });

      const error = await rejection(call());

      expect(error).toMatchObject({ reason: 'bad_response', retryable: false });
    });

    it('gives up a dripping result download at deadlineAt, and hangs up', async () => {
      const drip = Wire.drip(result(), { bytesPerTick: 1, intervalMs: 50 });
      turbotext.enqueue({ result: TurbotextReply.imageVia(drip) });
      const deadlineAt = new Date(Date.now() + 600);

      const error = await rejection(call({ deadlineAt }));

      expect(error).toMatchObject({ reason: 'timeout', retryable: false });
      expect(Date.now() - deadlineAt.getTime()).toBeLessThan(300);
      await sleep(200);
      const [sent] = drip.transmissions;
      expect(sent.finished).toBe(false);
      expect(sent.closedEarlyAt!).toBeLessThanOrEqual(deadlineAt.getTime() + 300);
    });
  });

  it('plans the primary call and one retry', () => {
    expect(driver.attempts()).toEqual([{}, {}]);
  });

  it('resolves through Nest without the optional options provider', async () => {
    const moduleRef = await Test.createTestingModule({
      providers: [
        TurbotextDriver,
        { provide: APP_CONFIG, useValue: loadConfig({}) },
        { provide: AppLogger, useValue: new AppLogger('error', () => undefined) },
      ],
    }).compile();

    expect(moduleRef.get(TurbotextDriver).provider).toBe('turbotext');
    await moduleRef.close();
  });
});

describe('FakeTurbotext', () => {
  let turbotext: FakeTurbotext;

  beforeEach(async () => {
    turbotext = await FakeTurbotext.start();
  });

  afterEach(async () => {
    await turbotext.close();
  });

  const post = (path: string, fields: Record<string, string>, key = 'k-1234') =>
    fetch(`${turbotext.baseUrl}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...(key ? { authorization: `Bearer ${key}` } : {}),
      },
      body: new URLSearchParams(fields).toString(),
    });

  it('answers 401 without a key and 404 on unknown methods', async () => {
    const missingKey = await post('/mix_images', { do: 'create_queue' }, '');
    const unknown = await post('/face_swap', { do: 'create_queue' });

    expect(missingKey.status).toBe(401);
    expect(unknown.status).toBe(404);
    expect(turbotext.requests).toHaveLength(2);
  });

  it('records the status of each link it fetched, and fails the queue on an expired one', async () => {
    const live = turbotext.upload(Buffer.from('photo'), 'image/jpeg');
    const expired = turbotext.upload(Buffer.from('style'), 'image/png', 0);

    const created: any = await (
      await post('/mix_images', { do: 'create_queue', url_image_target: live, url: expired })
    ).json();
    const result: any = await (
      await post('/mix_images', { do: 'get_result', queueid: String(created.queueid) })
    ).json();

    const queue = turbotext.queues[0];
    expect(queue.photo).toMatchObject({ status: 200, bytes: Buffer.from('photo') });
    expect(queue.template).toMatchObject({ status: 410 });
    expect(queue.template?.bytes).toBeUndefined();
    expect(result).toEqual({
      success: false,
      error: 'Не удалось загрузить изображение url (HTTP 410)',
    });
  });

  it('records a link it could not reach at all', async () => {
    const gone = await FakeTurbotext.start();
    await gone.close();

    const created: any = await (
      await post('/generate_image2image', {
        do: 'create_queue',
        url: `${gone.origin}/nothing.png`,
      })
    ).json();

    expect(created.success).toBe(true);
    expect(turbotext.lastQueue?.photo).toMatchObject({ error: 'ECONNREFUSED' });
    expect(turbotext.lastQueue?.photo?.status).toBeUndefined();
  });
});
