import sharp from 'sharp';
import { AppLogger } from '../src/common/app-logger';
import { loadConfig } from '../src/config/app-config';
import { FACE_PRESERVING_INSTRUCTION } from '../src/providers/gemini/gemini-protocol';
import { GeminiDriver } from '../src/providers/gemini/gemini.driver';
import type { ProviderContext, TemplateImage } from '../src/providers/provider-driver';
import { ProviderError } from '../src/providers/provider-driver';
import { MAX_ANSWER_BYTES } from '../src/providers/gemini/gemini.driver';
import type { GeminiBehaviour } from './fakes/fake-gemini';
import { FakeGemini, GeminiReply } from './fakes/fake-gemini';
import { Wire } from './fakes/fake-http';

/** The first bytes of a TLS 1.2 ServerHello record: what an HTTPS port says to plain HTTP. */
const TLS_SERVER_HELLO = Buffer.from('160303007a0200007603035f1a2b3c4d5e6f', 'hex');
const HUNDRED_MB = 100 * 1024 * 1024;

const API_KEY = 'AIzaSyFakeKeyForTests-0123456789';

async function image(format: 'jpeg' | 'png', width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: '#3366aa' } })
    .toFormat(format)
    .toBuffer();
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function rejection(promise: Promise<unknown>): Promise<ProviderError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ProviderError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

describe('GeminiDriver against a Gemini-speaking server', () => {
  let gemini: FakeGemini;
  let driver: GeminiDriver;
  let logLines: string[];
  let photo: Buffer;
  let templates: TemplateImage[];

  function context(overrides: Partial<ProviderContext> = {}): ProviderContext {
    return {
      jobId: 'job-1',
      slotId: 'slot-001',
      operation: 'image_edit',
      settings: { prompt: 'Put them on a beach at sunset' },
      photo: { bytes: photo, mimeType: 'image/jpeg', width: 30, height: 20 },
      templates: [],
      apiKey: API_KEY,
      model: 'gemini-3.1-flash-image',
      deadlineAt: new Date(Date.now() + 48_000),
      publicMediaUrl: () => Promise.reject(new Error('Gemini sends images inline')),
      onProviderReference: () => undefined,
      ...overrides,
    };
  }

  const call = (overrides: Partial<ProviderContext> = {}, signal = new AbortController().signal) =>
    driver.process(context(overrides), signal);

  beforeAll(async () => {
    photo = await image('jpeg', 30, 20);
    templates = [
      {
        id: 't1',
        kind: 'style',
        bytes: await image('png', 8, 8),
        mimeType: 'image/png',
        width: 8,
        height: 8,
      },
      {
        id: 't2',
        kind: 'background',
        bytes: await image('jpeg', 9, 9),
        mimeType: 'image/jpeg',
        width: 9,
        height: 9,
      },
    ];
  });

  beforeEach(async () => {
    gemini = await FakeGemini.start({ apiKey: API_KEY });
    logLines = [];
    const config = loadConfig({ GEMINI_BASE_URL: gemini.baseUrl });
    driver = new GeminiDriver(config, new AppLogger('debug', (line) => logLines.push(line)));
  });

  afterEach(async () => {
    await gemini.close();
  });

  it('posts the photo, then the templates in order, then the instruction and prompt', async () => {
    await call({ templates });

    const [request] = gemini.requests;
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/v1beta/models/gemini-3.1-flash-image:generateContent');
    expect(request.headers['x-goog-api-key']).toBe(API_KEY);
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.images()).toEqual([
      { mimeType: 'image/jpeg', bytes: photo },
      { mimeType: 'image/png', bytes: templates[0].bytes },
      { mimeType: 'image/jpeg', bytes: templates[1].bytes },
    ]);
    expect(request.body.contents[0].role).toBe('user');
    expect(request.body.contents[0].parts.at(-1)).toEqual({
      text: `${FACE_PRESERVING_INSTRUCTION}\n\nPut them on a beach at sunset`,
    });
    expect(request.body.generationConfig).toEqual({
      responseModalities: ['IMAGE'],
      imageConfig: { aspectRatio: '3:2' },
    });
  });

  it("asks for the slot's aspect ratio when set, else the one nearest the photo's", async () => {
    await call({ settings: { prompt: 'p', aspect_ratio: '9:16' } });
    await call({ photo: { bytes: photo, mimeType: 'image/jpeg', width: 1080, height: 1920 } });
    await call({ photo: { bytes: photo, mimeType: 'image/jpeg', width: 4000, height: 3000 } });

    expect(gemini.requests.map((request) => request.aspectRatio)).toEqual(['9:16', '9:16', '4:3']);
  });

  it("uses the slot's model when the context names none, URL-encoded", async () => {
    await call({ model: undefined, settings: { prompt: 'p', model: 'gemini-3-pro-image' } });
    await call({ model: 'odd model' });

    expect(gemini.requests.map((request) => request.path)).toEqual([
      '/v1beta/models/gemini-3-pro-image:generateContent',
      '/v1beta/models/odd%20model:generateContent',
    ]);
  });

  it.each([
    ['PNG', 'png', 'image/png'],
    ['JPEG', 'jpeg', 'image/jpeg'],
  ] as const)('returns a %s image with the MIME type Gemini declared', async (_, format, mime) => {
    const edited = await image(format, 12, 8);
    gemini.enqueue(
      GeminiReply.image(edited, mime, {
        text: 'Here is your photo',
        usage: { totalTokenCount: 42 },
      }),
    );

    const result = await call();

    expect(result.bytes.equals(edited)).toBe(true);
    expect(result.mimeType).toBe(mime);
    expect(result.usage).toEqual({
      promptTokenCount: 560,
      candidatesTokenCount: 1290,
      totalTokenCount: 42,
      model: 'gemini-3.1-flash-image',
    });
  });

  const daily = [
    {
      '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
      violations: [{ quotaId: 'GenerateRequestsPerDayPerProjectPerModel-FreeTier' }],
    },
  ];
  it.each<[string, GeminiBehaviour, Record<string, unknown>]>([
    [
      '400',
      GeminiReply.error(400, 'INVALID_ARGUMENT', 'Image too large'),
      {
        reason: 'provider_error',
        retryable: false,
        httpStatus: 400,
        providerMessage: 'Image too large',
      },
    ],
    [
      '403',
      GeminiReply.error(403, 'PERMISSION_DENIED', 'Permission denied'),
      { reason: 'provider_error', retryable: false, httpStatus: 403 },
    ],
    [
      '404',
      GeminiReply.error(404, 'NOT_FOUND', 'models/x is not found'),
      { reason: 'provider_error', retryable: false, httpStatus: 404 },
    ],
    [
      'another 4xx',
      GeminiReply.error(409, 'ABORTED', 'Conflict'),
      { reason: 'provider_error', retryable: false, httpStatus: 409 },
    ],
    [
      '429 per minute',
      GeminiReply.quotaExceeded(),
      { reason: 'quota', retryable: true, httpStatus: 429 },
    ],
    [
      '429 per day',
      GeminiReply.error(429, 'RESOURCE_EXHAUSTED', 'Quota exceeded', daily),
      { reason: 'quota', retryable: false, httpStatus: 429 },
    ],
    [
      '500',
      GeminiReply.error(500, 'INTERNAL', 'Internal error'),
      { reason: 'provider_unavailable', retryable: true, httpStatus: 500 },
    ],
    [
      '503',
      GeminiReply.unavailable(),
      { reason: 'provider_unavailable', retryable: true, httpStatus: 503 },
    ],
    ['malformed JSON', GeminiReply.malformedJson(), { reason: 'bad_response', retryable: false }],
    ['invalid base64', GeminiReply.invalidBase64(), { reason: 'bad_response', retryable: false }],
    [
      'a prompt block',
      GeminiReply.blocked('PROHIBITED_CONTENT'),
      { reason: 'blocked', retryable: false, finishReason: 'PROHIBITED_CONTENT' },
    ],
    [
      'IMAGE_SAFETY',
      GeminiReply.finishReason('IMAGE_SAFETY', 'Unable to show the generated image.'),
      {
        reason: 'blocked',
        retryable: false,
        finishReason: 'IMAGE_SAFETY',
        providerMessage: 'Unable to show the generated image.',
      },
    ],
    [
      'a text-only answer',
      GeminiReply.textOnly('I cannot edit this photo.'),
      {
        reason: 'blocked',
        retryable: false,
        finishReason: 'NO_IMAGE',
        providerMessage: 'I cannot edit this photo.',
      },
    ],
  ])('maps %s to a typed failure', async (_, behaviour, expected) => {
    gemini.enqueue(behaviour);

    const error = await rejection(call());

    const { reason, retryable, ...details } = expected;
    expect({ reason: error.reason, retryable: error.retryable }).toEqual({ reason, retryable });
    expect(error.details).toMatchObject(details);
  });

  it('never lets the API key reach an error or a log line', async () => {
    gemini.enqueue(GeminiReply.error(400, 'INVALID_ARGUMENT', `Key ${API_KEY} is not allowed`));

    const error = await rejection(call());

    expect(error.details.providerMessage).toBe('Key [redacted] is not allowed');
    expect(logLines.length).toBeGreaterThan(0);
    expect([error.message, JSON.stringify(error.details), ...logLines].join('\n')).not.toContain(
      API_KEY,
    );
  });

  it('reports a refused connection as a retryable network failure', async () => {
    await gemini.close();

    const error = await rejection(call());

    expect(error).toMatchObject({ reason: 'network', retryable: true });
    expect(error.message).toContain('ECONNREFUSED');
  });

  it.each([
    ['before the answer starts', false],
    ['while the body is read', true],
  ])('gives up as a timeout when the deadline fires %s', async (_, afterHeaders) => {
    gemini.respondWith(GeminiReply.hang({ afterHeaders }));
    const deadline = new AbortController();
    setTimeout(() => deadline.abort(), 200);
    const started = Date.now();

    const error = await rejection(call({}, deadline.signal));

    expect(error).toMatchObject({ reason: 'timeout', retryable: false });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(gemini.requests).toHaveLength(1);
  });

  describe('faults on the wire', () => {
    it.each<[string, () => GeminiBehaviour, string]>([
      [
        'a connection reset mid-body',
        () => GeminiReply.cutOff(GeminiReply.image(photo), { bytes: 40, ending: 'reset' }),
        'ECONNRESET',
      ],
      [
        'a connection closed mid-body',
        () => GeminiReply.cutOff(GeminiReply.image(photo), { bytes: 40, ending: 'close' }),
        'UND_ERR_SOCKET',
      ],
      ['TLS bytes instead of HTTP', () => GeminiReply.wire(Wire.raw(TLS_SERVER_HELLO)), 'HPE_'],
      [
        'random bytes instead of HTTP',
        () => GeminiReply.wire(Wire.raw(Buffer.from([0x00, 0xff, 0x13, 0x37, 0x0a, 0x0d]))),
        'HPE_',
      ],
    ])('reports %s as a retryable network failure at once', async (_, behaviour, code) => {
      gemini.respondWith(behaviour());
      const started = Date.now();

      const error = await rejection(call());

      expect(error).toMatchObject({ reason: 'network', retryable: true });
      expect(error.message).toContain(code);
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(gemini.requests).toHaveLength(1);
    });

    it.each([
      ['declared in Content-Length', true],
      ['streamed without a length', false],
    ])(
      'refuses an answer over the cap (%s) as bad_response without reading it all',
      async (_, declareLength) => {
        const huge = GeminiReply.huge(HUNDRED_MB + 20 * 1024 * 1024, { declareLength });
        gemini.respondWith(huge);

        const error = await rejection(call());

        expect(error).toMatchObject({ reason: 'bad_response', retryable: false });
        expect(error.details.httpStatus).toBe(200);
        // The client hung up: the fake never got to send the whole body.
        const [sent] = huge.transmissions;
        expect(sent.finished).toBe(false);
        expect(sent.sentBytes).toBeLessThan(MAX_ANSWER_BYTES + 16 * 1024 * 1024);
      },
    );

    it('reads an answer that drips in slowly but completely', async () => {
      const answer = await image('png', 12, 8);
      gemini.respondWith(
        GeminiReply.drip(GeminiReply.image(answer), { bytesPerTick: 16, intervalMs: 5 }),
      );

      const result = await call();

      expect(result.bytes.equals(answer)).toBe(true);
    });

    it('gives up a dripping answer when the deadline fires, and hangs up', async () => {
      const drip = GeminiReply.drip(GeminiReply.image(photo), { bytesPerTick: 1, intervalMs: 50 });
      gemini.respondWith(drip);
      const deadline = new AbortController();
      setTimeout(() => deadline.abort(), 300);

      const error = await rejection(call({}, deadline.signal));
      const abortedAt = Date.now();

      expect(error).toMatchObject({ reason: 'timeout', retryable: false });
      await sleep(200);
      const [sent] = drip.transmissions;
      expect(sent.finished).toBe(false);
      expect(sent.closedEarlyAt).toBeDefined();
      expect(sent.closedEarlyAt!).toBeLessThanOrEqual(abortedAt + 200);
    });
  });

  it('plans the primary model twice, then a different fallback', () => {
    expect(driver.attempts({ prompt: 'p' })).toEqual([
      { model: 'gemini-3.1-flash-image' },
      { model: 'gemini-3.1-flash-image' },
    ]);
    expect(
      driver.attempts({ prompt: 'p', model: 'gemini-3-pro-image', fallback_model: 'gemini-x' }),
    ).toEqual([
      { model: 'gemini-3-pro-image' },
      { model: 'gemini-3-pro-image' },
      { model: 'gemini-x' },
    ]);
    expect(
      driver.attempts({ prompt: 'p', model: 'gemini-x', fallback_model: 'gemini-x' }),
    ).toHaveLength(2);
  });
});

describe('FakeGemini', () => {
  let gemini: FakeGemini;

  beforeEach(async () => {
    gemini = await FakeGemini.start();
  });

  afterEach(async () => {
    await gemini.close();
  });

  const post = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${gemini.baseUrl}${path}`, { method: 'POST', headers, body: '{}' });

  it('answers 403 without an API key and 404 on unknown paths, as Google does', async () => {
    const missingKey = await post('/v1beta/models/m:generateContent');
    const unknown = await post('/v1beta/models/m:countTokens', { 'x-goog-api-key': 'k' });

    expect(missingKey.status).toBe(403);
    expect(((await missingKey.json()) as any).error.status).toBe('PERMISSION_DENIED');
    expect(unknown.status).toBe(404);
    expect(gemini.requests).toHaveLength(2);
  });

  it('holds calls until released, so tests can act while one is in flight', async () => {
    const held = GeminiReply.held(GeminiReply.textOnly('done'));
    gemini.respondWith(held);

    const pending = post('/v1beta/models/m:generateContent', { 'x-goog-api-key': 'k' });
    await held.reached;
    await gemini.waitForRequests(1);
    held.release();

    expect(((await (await pending).json()) as any).candidates[0].content.parts[0].text).toBe(
      'done',
    );
  });
});
