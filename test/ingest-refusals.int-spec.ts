// SPEC §4's error table for the booth's ingest link: every refusal, its exact JSON body, the order
// of the checks, and that a refused request leaves no job row and no temp file behind.
import { randomBytes } from 'node:crypto';
import { GeminiReply } from './fakes/fake-gemini';
import { BoothResponse, BoothUpload, boothPost, dslrFields, multipart } from './support/booth';
import { gif, jpeg, pngHeaderDeclaring, textBytes, truncatedJpeg } from './support/images';
import {
  INGEST_PASSWORD,
  IngestEnv,
  jobCount,
  saveSettings,
  saveSlot,
  startIngestApp,
  stopIngestApp,
  tempFiles,
  waitFor,
} from './support/ingest-setup';
import type { TestApp } from './support/test-app';

const MB = 1024 * 1024;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined> | Headers;
  json: any;
  refusedBeforeBody?: boolean;
}

function header(answer: Answer, name: string): string | undefined {
  if (answer.headers instanceof Headers) return answer.headers.get(name) ?? undefined;
  const value = answer.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * Sends one request and checks SPEC §4's refusal: the status, exactly
 * `{"status":"error","failure_reason","message"}` (no `job_id`: no job exists), no new job row
 * and nothing left under MEDIA_ROOT/tmp.
 */
async function expectRefusal<T extends Answer>(
  app: TestApp,
  send: () => Promise<T>,
  status: number,
  reason: string,
  message: RegExp = /\w/,
): Promise<T> {
  const jobsBefore = await jobCount(app);
  const answer = await send();
  expect({ status: answer.status, body: answer.json }).toEqual({
    status,
    body: { status: 'error', failure_reason: reason, message: expect.stringMatching(message) },
  });
  expect(header(answer, 'content-type')).toMatch(/^application\/json/);
  expect(await jobCount(app)).toBe(jobsBefore);
  expect(await tempFiles(app)).toEqual([]);
  return answer;
}

/** A request as `fetch` sends it (no 100-continue), for bodies DSLR Remote Pro never sends. */
async function rawPost(
  app: TestApp,
  route: string,
  body: Buffer | string,
  contentType: string,
): Promise<Answer> {
  const response = await app.request('POST', route, {
    body,
    headers: { 'content-type': contentType },
  });
  return { status: response.status, headers: response.headers, json: response.body };
}

describe('ingest refusals (SPEC §4)', () => {
  let env: IngestEnv;
  let app: TestApp;
  let photo: Buffer;

  const booth = (fields: Record<string, string> = {}): Record<string, string> => ({
    ...dslrFields(),
    password: INGEST_PASSWORD,
    ...fields,
  });
  const post = (
    slotId: string,
    upload: BoothUpload,
    options: Parameters<typeof boothPost>[2] = {},
    prefix = '/ingest/',
  ): Promise<BoothResponse> => boothPost(`${app.url}${prefix}${slotId}`, upload, options);

  beforeAll(async () => {
    env = await startIngestApp();
    app = env.app;
    photo = await jpeg(640, 480);
    await saveSlot(app, env.token, 'slot-001');
    await saveSlot(app, env.token, 'slot-002', { is_active: false });
    await saveSlot(app, env.token, 'slot-003', {
      provider: null,
      operation: null,
      settings: {},
      is_active: true,
    });
  });

  afterAll(() => stopIngestApp(env));

  beforeEach(() => env.gemini.reset());

  afterEach(() => {
    // No refusal may reach the provider.
    expect(env.gemini.requests).toHaveLength(0);
  });

  describe('404 slot_not_found, decided from the URL before the body', () => {
    const unknown = [
      ['/ingest/', 'slot-016'],
      ['/api/ingest/', 'slot-016'],
      ['/ingest/', 'slot-000'],
      ['/ingest/', '..%2F..%2Fetc'],
      ['/api/ingest/', '..%2F..%2Fetc%2Fpasswd'],
      ['/ingest/', 'slot-001%00'],
      ['/ingest/', 'SLOT-001'],
    ];

    it.each(unknown)(
      '%s%s with Expect: 100-continue is refused before the upload',
      async (prefix, id) => {
        const answer = await expectRefusal(
          app,
          () => post(id, { fields: booth(), file: { bytes: photo } }, {}, prefix),
          404,
          'slot_not_found',
        );
        expect(answer.refusedBeforeBody).toBe(true);
        expect(header(answer, 'connection')).toBe('close');
      },
    );

    it.each(unknown)('%s%s without Expect is refused too', async (prefix, id) => {
      await expectRefusal(
        app,
        () =>
          post(id, { fields: booth(), file: { bytes: photo } }, { expectContinue: false }, prefix),
        404,
        'slot_not_found',
      );
    });

    it('names a well-formed unknown id in the message, never an odd one', async () => {
      const known = await post('slot-016', { fields: booth(), file: { bytes: photo } });
      expect(known.json.message).toContain('slot-016');
      const odd = await post('..%2F..%2Fetc', { fields: booth(), file: { bytes: photo } });
      expect(odd.json.message).not.toMatch(/etc|\.\./);
    });

    it('comes before 413: an unknown slot with a huge Content-Length is a 404', async () => {
      const answer = await expectRefusal(
        app,
        () =>
          post('slot-016', { fields: booth(), file: { bytes: photo } }, { contentLength: 40 * MB }),
        404,
        'slot_not_found',
      );
      expect(answer.refusedBeforeBody).toBe(true);
    });
  });

  describe('413 payload_too_large, decided from Content-Length before the body', () => {
    it('refuses a declared 16 MB upload before it is sent, with Connection: close', async () => {
      const answer = await expectRefusal(
        app,
        () =>
          post('slot-001', { fields: booth(), file: { bytes: photo } }, { contentLength: 16 * MB }),
        413,
        'payload_too_large',
        /15 MB/,
      );
      expect(answer.refusedBeforeBody).toBe(true);
      expect(header(answer, 'connection')).toBe('close');
    });

    it('refuses it without Expect too, with Connection: close', async () => {
      const answer = await expectRefusal(
        app,
        () =>
          post(
            'slot-001',
            { fields: booth(), file: { bytes: photo } },
            { expectContinue: false, contentLength: 16 * MB },
          ),
        413,
        'payload_too_large',
      );
      expect(header(answer, 'connection')).toBe('close');
    });

    it('comes before the password and the slot checks', async () => {
      for (const [slotId, fields] of [
        ['slot-001', booth({ password: 'wrong-password' })],
        ['slot-002', booth()],
      ] as const) {
        const answer = await expectRefusal(
          app,
          () => post(slotId, { fields, file: { bytes: photo } }, { contentLength: 16 * MB }),
          413,
          'payload_too_large',
        );
        expect(answer.refusedBeforeBody).toBe(true);
      }
    });

    it('follows max_upload_mb from the settings', async () => {
      const upload = { fields: booth(), file: { bytes: randomBytes(2 * MB) } };
      await saveSettings(app, env.token, { max_upload_mb: 1 });
      try {
        const answer = await expectRefusal(
          app,
          () => post('slot-001', upload),
          413,
          'payload_too_large',
          /1 MB/,
        );
        expect(answer.refusedBeforeBody).toBe(true);
      } finally {
        await saveSettings(app, env.token, { max_upload_mb: 15 });
      }
      // Under the default limit the same upload is read, and refused for what it is.
      const answer = await expectRefusal(
        app,
        () => post('slot-001', upload),
        415,
        'unsupported_media_type',
      );
      expect(answer.refusedBeforeBody).toBe(false);
    });
  });

  describe('400 invalid_request, after the body', () => {
    it('refuses a multipart body cut off before its closing boundary', async () => {
      const { body, contentType } = multipart({ fields: booth(), file: { bytes: photo } });
      await expectRefusal(
        app,
        () => rawPost(app, '/ingest/slot-001', body.subarray(0, body.length - 200), contentType),
        400,
        'invalid_request',
      );
    });

    it('refuses a body cut off inside fileToUpload sent after a `file` part', async () => {
      const boundary = 'cutOffBoundary';
      const part = (name: string, bytes: Buffer) =>
        Buffer.concat([
          Buffer.from(
            `--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="a.jpg"\r\n` +
              'Content-Type: image/jpeg\r\n\r\n',
          ),
          bytes,
          Buffer.from('\r\n'),
        ]);
      const body = Buffer.concat([
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="password"\r\n\r\n${INGEST_PASSWORD}\r\n`,
        ),
        part('file', photo),
        part('fileToUpload', photo).subarray(0, 2000),
      ]);
      await expectRefusal(
        app,
        () => rawPost(app, '/ingest/slot-001', body, `multipart/form-data; boundary=${boundary}`),
        400,
        'invalid_request',
      );
    });

    it('refuses multipart/form-data without a boundary', async () => {
      const { body } = multipart({ fields: booth(), file: { bytes: photo } });
      await expectRefusal(
        app,
        () => rawPost(app, '/ingest/slot-001', body, 'multipart/form-data'),
        400,
        'invalid_request',
      );
    });

    it.each([
      ['image/jpeg', 'the photo itself'],
      ['application/json', JSON.stringify({ password: INGEST_PASSWORD })],
      ['application/x-www-form-urlencoded', `password=${INGEST_PASSWORD}`],
      ['text/plain', 'hello'],
    ])('refuses a %s body', async (contentType, text) => {
      const body = contentType === 'image/jpeg' ? photo : text;
      await expectRefusal(
        app,
        () => rawPost(app, '/ingest/slot-001', body, contentType),
        400,
        'invalid_request',
        /multipart/,
      );
    });

    it.each([
      ['missing', undefined],
      ['empty', ''],
    ])('refuses a %s password', async (_case, password) => {
      const fields = booth();
      if (password === undefined) delete fields.password;
      else fields.password = password;
      await expectRefusal(
        app,
        () => post('slot-001', { fields, file: { bytes: photo } }),
        400,
        'invalid_request',
        /password/,
      );
    });

    it('refuses a request without fileToUpload (a photo under another name does not count)', async () => {
      await expectRefusal(
        app,
        () => post('slot-001', { fields: booth() }),
        400,
        'invalid_request',
        /fileToUpload/,
      );
      await expectRefusal(
        app,
        () => post('slot-001', { fields: booth(), file: { field: 'photo', bytes: photo } }),
        400,
        'invalid_request',
        /fileToUpload/,
      );
    });

    it('refuses an empty (0-byte) file as a bad request', async () => {
      await expectRefusal(
        app,
        () => post('slot-001', { fields: booth(), file: { bytes: Buffer.alloc(0) } }),
        400,
        'invalid_request',
        /empty/,
      );
    });

    it('comes before 401: no file and a wrong password is a 400', async () => {
      await expectRefusal(
        app,
        () => post('slot-001', { fields: booth({ password: 'wrong-password' }) }),
        400,
        'invalid_request',
      );
    });
  });

  describe('401 invalid_password', () => {
    it('refuses a wrong password and never logs it', async () => {
      const wrong = `not-the-password-${randomBytes(6).toString('hex')}`;
      await expectRefusal(
        app,
        () => post('slot-001', { fields: booth({ password: wrong }), file: { bytes: photo } }),
        401,
        'invalid_password',
        /[Ww]rong/,
      );
      expect(app.rawLogs.join('\n')).not.toContain(wrong);
      expect(app.logs).toContainEqual(
        expect.objectContaining({ event: 'ingest.refused', failure_reason: 'invalid_password' }),
      );
    });

    it('is case-sensitive and exact', async () => {
      for (const password of [INGEST_PASSWORD.toUpperCase(), `${INGEST_PASSWORD} `, 'booth']) {
        await expectRefusal(
          app,
          () => post('slot-001', { fields: booth({ password }), file: { bytes: photo } }),
          401,
          'invalid_password',
        );
      }
    });

    it('refuses the old password as soon as it is changed', async () => {
      // The right password is remembered after its first check…
      expect((await post('slot-001', { fields: booth(), file: { bytes: photo } })).status).toBe(
        200,
      );
      await saveSettings(app, env.token, { ingest_password: 'a-new-booth-password' });
      try {
        // …but never past a change.
        await expectRefusal(
          app,
          () => post('slot-001', { fields: booth(), file: { bytes: photo } }),
          401,
          'invalid_password',
        );
        const fresh = await post('slot-001', {
          fields: booth({ password: 'a-new-booth-password' }),
          file: { bytes: photo },
        });
        expect(fresh.status).toBe(200);
      } finally {
        await saveSettings(app, env.token, { ingest_password: INGEST_PASSWORD });
        env.gemini.reset();
      }
    });

    it('comes before 409 and 415', async () => {
      const wrong = booth({ password: 'wrong-password' });
      for (const slotId of ['slot-002', 'slot-003']) {
        await expectRefusal(
          app,
          () => post(slotId, { fields: wrong, file: { bytes: photo } }),
          401,
          'invalid_password',
        );
      }
      await expectRefusal(
        app,
        () => post('slot-001', { fields: wrong, file: { bytes: textBytes() } }),
        401,
        'invalid_password',
      );
    });
  });

  describe('409 slot_not_ready', () => {
    it('refuses an inactive slot', async () => {
      await expectRefusal(
        app,
        () => post('slot-002', { fields: booth(), file: { bytes: photo } }),
        409,
        'slot_not_ready',
        /not active/,
      );
    });

    it('refuses an active slot without a provider', async () => {
      await expectRefusal(
        app,
        () => post('slot-003', { fields: booth(), file: { bytes: photo } }),
        409,
        'slot_not_ready',
        /provider/,
      );
    });

    it('refuses a slot never configured (inactive, no provider)', async () => {
      await expectRefusal(
        app,
        () => post('slot-015', { fields: booth(), file: { bytes: photo } }),
        409,
        'slot_not_ready',
      );
    });

    it('comes before 415: a GIF to an inactive slot is a 409', async () => {
      const bytes = await gif(64, 64);
      await expectRefusal(
        app,
        () => post('slot-002', { fields: booth(), file: { bytes } }),
        409,
        'slot_not_ready',
      );
    });
  });

  describe('415 unsupported_media_type, by content', () => {
    it('refuses a text file named .jpg and sent as image/jpeg', async () => {
      await expectRefusal(
        app,
        () =>
          post('slot-001', {
            fields: booth(),
            file: { name: 'IMG_0001.JPG', contentType: 'image/jpeg', bytes: textBytes() },
          }),
        415,
        'unsupported_media_type',
      );
    });

    it('refuses a GIF, saying so', async () => {
      const bytes = await gif(64, 64);
      await expectRefusal(
        app,
        () =>
          post('slot-001', {
            fields: booth(),
            file: { name: 'IMG_0001.JPG', contentType: 'image/jpeg', bytes },
          }),
        415,
        'unsupported_media_type',
        /GIF/,
      );
    });

    it('refuses a truncated JPEG', async () => {
      const bytes = await truncatedJpeg();
      await expectRefusal(
        app,
        () => post('slot-001', { fields: booth(), file: { bytes } }),
        415,
        'unsupported_media_type',
        /damaged|incomplete|decod/,
      );
    });

    it('refuses a WEBP header followed by garbage', async () => {
      const bytes = Buffer.concat([
        Buffer.from('RIFF'),
        Buffer.from([0x00, 0x10, 0x00, 0x00]),
        Buffer.from('WEBPVP8 '),
        randomBytes(4096),
      ]);
      await expectRefusal(
        app,
        () => post('slot-001', { fields: booth(), file: { name: 'a.webp', bytes } }),
        415,
        'unsupported_media_type',
      );
    });

    it('refuses a PNG header declaring 60000×60000 quickly, without decoding it', async () => {
      const started = Date.now();
      await expectRefusal(
        app,
        () =>
          post('slot-001', {
            fields: booth(),
            file: { name: 'bomb.png', bytes: pngHeaderDeclaring(60_000, 60_000) },
          }),
        415,
        'unsupported_media_type',
        /pixels/,
      );
      expect(Date.now() - started).toBeLessThan(2_000);
    });

    it('follows max_input_megapixels from the settings', async () => {
      const large = await jpeg(1500, 1000);
      await saveSettings(app, env.token, { max_input_megapixels: 1 });
      try {
        await expectRefusal(
          app,
          () => post('slot-001', { fields: booth(), file: { bytes: large } }),
          415,
          'unsupported_media_type',
          /1 megapixels/,
        );
      } finally {
        await saveSettings(app, env.token, { max_input_megapixels: 50 });
      }
    });
  });

  describe('429 slot_busy', () => {
    afterEach(() => env.gemini.reset());

    it('refuses a photo beyond slot_concurrency with Retry-After, after the 415 check', async () => {
      await saveSettings(app, env.token, { slot_concurrency: 1 });
      const held = GeminiReply.held();
      env.gemini.respondWith(held);
      const first = post('slot-001', { fields: booth(), file: { bytes: photo } });
      try {
        await held.reached;
        const second = await jpeg(600, 400);
        const busy = await expectRefusal(
          app,
          () => post('slot-001', { fields: booth(), file: { bytes: second } }),
          429,
          'slot_busy',
        );
        const retryAfter = header(busy, 'retry-after');
        expect(retryAfter).toMatch(/^\d+$/);
        expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
        expect(Number(retryAfter)).toBeLessThanOrEqual(48);
        // The earlier checks still answer first while the slot is busy.
        await expectRefusal(
          app,
          () => post('slot-001', { fields: booth(), file: { bytes: textBytes() } }),
          415,
          'unsupported_media_type',
        );
        await expectRefusal(
          app,
          () => post('slot-001', { fields: booth({ password: 'wrong' }), file: { bytes: photo } }),
          401,
          'invalid_password',
        );
        // Another slot is not affected.
        await saveSlot(app, env.token, 'slot-004');
        const other = post('slot-004', { fields: booth(), file: { bytes: photo } });
        await waitFor(
          'the other slot to reach the provider',
          () => env.gemini.requests.length === 2,
        );
        held.release();
        expect((await other).status).toBe(200);
      } finally {
        held.release();
        await saveSettings(app, env.token, { slot_concurrency: 4 });
      }
      expect((await first).status).toBe(200);
      // Once the first job is done the slot takes photos again.
      expect((await post('slot-001', { fields: booth(), file: { bytes: photo } })).status).toBe(
        200,
      );
      env.gemini.reset();
    });
  });
});

describe('ingest on a fresh install without an API key', () => {
  let env: IngestEnv;
  let photo: Buffer;

  beforeAll(async () => {
    env = await startIngestApp({ env: { GEMINI_API_KEY: '' }, setPassword: false });
    photo = await jpeg(640, 480);
  });

  afterAll(() => stopIngestApp(env));

  const post = (slotId: string, password: string) =>
    boothPost(`${env.app.url}/ingest/${slotId}`, {
      fields: { ...dslrFields(), password },
      file: { bytes: photo },
    });

  it('answers 401 saying that no ingest password is set yet, whatever is sent', async () => {
    for (const password of ['admin', INGEST_PASSWORD]) {
      await expectRefusal(
        env.app,
        () => post('slot-001', password),
        401,
        'invalid_password',
        /no ingest password is set/i,
      );
    }
  });

  it('answers 409 for a configured slot while no API key exists', async () => {
    await saveSettings(env.app, env.token, { ingest_password: INGEST_PASSWORD });
    await saveSlot(env.app, env.token, 'slot-001');
    await expectRefusal(
      env.app,
      () => post('slot-001', INGEST_PASSWORD),
      409,
      'slot_not_ready',
      /API key/,
    );
    expect(env.gemini.requests).toHaveLength(0);

    // A key saved in the settings makes the slot ready.
    await saveSettings(env.app, env.token, { provider_keys: { gemini: 'key-from-settings' } });
    const answer = await post('slot-001', INGEST_PASSWORD);
    expect(answer.status).toBe(200);
    expect(env.gemini.requests).toHaveLength(1);
    expect(env.gemini.requests[0].apiKey).toBe('key-from-settings');
  });
});

describe('ingest with the disk (nearly) full', () => {
  let env: IngestEnv;

  beforeAll(async () => {
    // The highest value the configuration accepts (10 TB): no test machine has that much free.
    env = await startIngestApp({ env: { MIN_FREE_DISK_MB: '10000000' } });
    await saveSlot(env.app, env.token, 'slot-001');
  });

  afterAll(() => stopIngestApp(env));

  it('answers 503 storage_full before calling the provider, and creates no job', async () => {
    const photo = await jpeg(640, 480);
    await expectRefusal(
      env.app,
      () =>
        boothPost(`${env.app.url}/ingest/slot-001`, {
          fields: { ...dslrFields(), password: INGEST_PASSWORD },
          file: { bytes: photo },
        }),
      503,
      'storage_full',
      /MB/,
    );
    expect(env.gemini.requests).toHaveLength(0);
  });
});
