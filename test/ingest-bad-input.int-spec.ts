// Bad input at the booth's ingest link (issue #8): bodies that stop short or never end, hang-ups,
// duplicated and oversized fields, odd characters, and SQL or path text in every id. Each is a 4xx
// JSON answer (or a closed connection when nobody is left to answer), with no temp file left under
// MEDIA_ROOT/tmp, no job stuck in `processing`, and the tables as they were.
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import * as path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { GeminiReply } from './fakes/fake-gemini';
import { boothPost, dslrFields } from './support/booth';
import { sql } from './support/database';
import { jpeg } from './support/images';
import {
  INGEST_PASSWORD,
  IngestEnv,
  jobCount,
  jobRow,
  saveSettings,
  saveSlot,
  startIngestApp,
  stopIngestApp,
  tempFiles,
  waitFor,
} from './support/ingest-setup';
import { chunk, RawConnection, RawResponse, requestHead } from './support/raw-http';
import type { TestApp } from './support/test-app';

const MB = 1024 * 1024;

// A full collection before each memory reading, so garbage is not mistaken for buffering.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;
/** What a bad id may get: never a 5xx. */
const REFUSALS = [400, 401, 404, 405, 409, 410, 413, 415, 422];
const BOUNDARY = 'badInputBoundary7MA4YWxkTrZu0gW';
const CONTENT_TYPE = `multipart/form-data; boundary=${BOUNDARY}`;

interface Part {
  name: string;
  value: Buffer | string;
  filename?: string;
  contentType?: string;
}

function partHead(part: Omit<Part, 'value'>): string {
  const filename = part.filename === undefined ? '' : `; filename="${part.filename}"`;
  const type = part.contentType ? `\r\nContent-Type: ${part.contentType}` : '';
  return `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${part.name}"${filename}${type}\r\n\r\n`;
}

/** A multipart body from its parts, in order, bytes as given (names are not escaped). */
function form(parts: Part[]): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    chunks.push(Buffer.from(partHead(part), 'utf8'), Buffer.from(part.value), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return Buffer.concat(chunks);
}

function textParts(fields: Record<string, string>): Part[] {
  return Object.entries(fields).map(([name, value]) => ({ name, value }));
}

function photoPart(bytes: Buffer, name = 'fileToUpload', filename = 'IMG_0001.JPG'): Part {
  return { name, value: bytes, filename, contentType: 'image/jpeg' };
}

describe('ingest: bad input', () => {
  let env: IngestEnv;
  let app: TestApp;
  let photo: Buffer;

  const booth = (fields: Record<string, string> = {}): Record<string, string> => ({
    ...dslrFields(),
    password: INGEST_PASSWORD,
    ...fields,
  });

  /** POSTs a whole body over a raw socket and reads the answer. */
  async function send(
    body: Buffer,
    options: { route?: string; contentType?: string } = {},
  ): Promise<RawResponse> {
    const connection = await RawConnection.open(app.url);
    await connection.write(
      requestHead('POST', options.route ?? '/ingest/slot-001', {
        'Content-Type': options.contentType ?? CONTENT_TYPE,
        'Content-Length': body.length,
      }),
    );
    await connection.write(body);
    const answer = await connection.response;
    connection.destroy();
    if (!answer) throw new Error('the server closed the connection without answering');
    return answer;
  }

  async function runningJobs(): Promise<Array<{ id: string; status: string }>> {
    return sql(
      app.databaseUrl,
      `SELECT id, status FROM job WHERE status IN ('pending', 'processing')`,
    );
  }

  /** Nothing left behind: no temp upload, no job still running. */
  async function expectNothingLeft(): Promise<void> {
    await waitFor('the temp files to be removed', async () => (await tempFiles(app)).length === 0);
    expect(await tempFiles(app)).toEqual([]);
    expect(await runningJobs()).toEqual([]);
  }

  function expectError(answer: RawResponse, status: number, reason: string, message = /\w/): void {
    expect({ status: answer.status, body: answer.json }).toEqual({
      status,
      body: { status: 'error', failure_reason: reason, message: expect.stringMatching(message) },
    });
    expect(answer.headers['content-type']).toMatch(/^application\/json/);
  }

  /** The server still takes a good shot afterwards. */
  async function expectStillServing(): Promise<void> {
    const answer = await boothPost(`${app.url}/ingest/slot-001`, {
      fields: booth(),
      file: { bytes: photo },
    });
    expect([answer.status, answer.json]).toEqual([200, undefined]);
  }

  beforeAll(async () => {
    env = await startIngestApp();
    app = env.app;
    photo = await jpeg(320, 240);
    await saveSlot(app, env.token, 'slot-001');
  });

  afterAll(() => stopIngestApp(env));

  beforeEach(() => env.gemini.reset());

  describe('a body that stops short', () => {
    it('shorter than its Content-Length, then the booth closes its side: 400, nothing left', async () => {
      const body = form([...textParts(booth()), photoPart(photo)]);
      const jobsBefore = await jobCount(app);
      const connection = await RawConnection.open(app.url);
      await connection.write(
        requestHead('POST', '/ingest/slot-001', {
          'Content-Type': CONTENT_TYPE,
          'Content-Length': body.length,
        }),
      );
      await connection.write(body.subarray(0, Math.floor(body.length / 2)));
      connection.end();
      const answer = await connection.response;
      // Either the server still answers on the half-closed connection, or it closes it: never a 5xx.
      if (answer) expectError(answer, 400, 'invalid_request');
      await connection.closed;
      await expectNothingLeft();
      expect(await jobCount(app)).toBe(jobsBefore);
      expect(env.gemini.requests).toHaveLength(0);
      await expectStillServing();
    });

    it('a booth that hangs up halfway through the upload leaves nothing behind', async () => {
      const body = form([...textParts(booth()), photoPart(await jpeg(1600, 1200))]);
      const jobsBefore = await jobCount(app);
      const connection = await RawConnection.open(app.url);
      await connection.write(
        requestHead('POST', '/ingest/slot-001', {
          'Content-Type': CONTENT_TYPE,
          'Content-Length': body.length,
          Expect: '100-continue',
        }),
      );
      await waitFor('100 Continue', () => connection.continued);
      await connection.write(body.subarray(0, Math.floor(body.length / 2)));
      // The photo part has started: its temp file exists before the hang-up.
      await waitFor(
        'the upload to reach a temp file',
        async () => (await tempFiles(app)).length > 0,
      );
      connection.destroy();
      await expectNothingLeft();
      expect(await jobCount(app)).toBe(jobsBefore);
      expect(env.gemini.requests).toHaveLength(0);
      await expectStillServing();
    });

    it('a body that stalls is refused at the deadline, not held open', async () => {
      await saveSettings(app, env.token, { sync_response_seconds: 10 });
      try {
        const body = form([...textParts(booth()), photoPart(photo)]);
        const connection = await RawConnection.open(app.url);
        await connection.write(
          requestHead('POST', '/ingest/slot-001', {
            'Content-Type': CONTENT_TYPE,
            'Content-Length': body.length,
          }),
        );
        const started = Date.now();
        await connection.write(body.subarray(0, body.length - 100));
        const answer = await connection.response;
        expect(answer).toBeDefined();
        expectError(answer!, 400, 'invalid_request', /10 s/);
        expect(answer!.headers.connection).toBe('close');
        expect(Date.now() - started).toBeLessThan(10_000 + 1_500);
        await connection.closed;
        await expectNothingLeft();
      } finally {
        await saveSettings(app, env.token, { sync_response_seconds: 48 });
      }
    });
  });

  describe('a booth that hangs up while waiting for the provider', () => {
    async function hangUpWhileHeld(): Promise<{ jobId: string }> {
      const body = form([...textParts(booth()), photoPart(photo)]);
      const connection = await RawConnection.open(app.url);
      await connection.write(
        requestHead('POST', '/ingest/slot-001', {
          'Content-Type': CONTENT_TYPE,
          'Content-Length': body.length,
        }),
      );
      await connection.write(body);
      await env.gemini.waitForRequests(1);
      const [running] = await runningJobs();
      expect(running).toMatchObject({ status: 'processing' });
      connection.destroy();
      await connection.closed;
      return { jobId: running.id };
    }

    it('still ends its job when the provider then fails: failed_provider, no file left', async () => {
      const held = GeminiReply.held(GeminiReply.error(400, 'INVALID_ARGUMENT', 'Bad image'));
      env.gemini.respondWith(held);
      const { jobId } = await hangUpWhileHeld();
      held.release();
      await waitFor('the job to end', async () => (await runningJobs()).length === 0);
      expect(await jobRow(app, jobId)).toMatchObject({
        status: 'failed_provider',
        failure_reason: 'provider_error',
        result_path: null,
      });
      expect(existsSync(path.join(app.config.mediaRoot, 'results', 'slot-001', jobId))).toBe(false);
      await expectNothingLeft();
    });

    it('still ends its job when the provider never answers: failed_timeout at the deadline', async () => {
      await saveSettings(app, env.token, { sync_response_seconds: 10 });
      const held = GeminiReply.held();
      env.gemini.respondWith(held);
      try {
        const { jobId } = await hangUpWhileHeld();
        await waitFor('the deadline', async () => (await runningJobs()).length === 0, 12_000);
        expect(await jobRow(app, jobId)).toMatchObject({
          status: 'failed_timeout',
          failure_reason: 'timeout',
          result_path: null,
        });
        await expectNothingLeft();
      } finally {
        held.release();
        await saveSettings(app, env.token, { sync_response_seconds: 48 });
      }
    });
  });

  describe('duplicated fields', () => {
    // Which of two passwords or two photos counts is ambiguous (a proxy may read the other one):
    // refused. Other duplicated text fields are only recorded: the first one is kept.
    it.each([
      ['the right password, then a wrong one', [INGEST_PASSWORD, 'wrong-password']],
      ['a wrong password, then the right one', ['wrong-password', INGEST_PASSWORD]],
      ['the right password twice', [INGEST_PASSWORD, INGEST_PASSWORD]],
    ])('refuses two password fields (%s) with 400', async (_case, passwords) => {
      const jobsBefore = await jobCount(app);
      const answer = await send(
        form([
          ...textParts(dslrFields()),
          ...passwords.map((value) => ({ name: 'password', value })),
          photoPart(photo),
        ]),
      );
      expectError(answer, 400, 'invalid_request', /password.*once|once.*password/i);
      expect(await jobCount(app)).toBe(jobsBefore);
      expect(env.gemini.requests).toHaveLength(0);
      await expectNothingLeft();
    });

    it.each(['fileToUpload', 'file'])('refuses two %s parts with 400', async (name) => {
      const other = await jpeg(200, 100);
      const jobsBefore = await jobCount(app);
      const answer = await send(
        form([...textParts(booth()), photoPart(photo, name), photoPart(other, name)]),
      );
      expectError(answer, 400, 'invalid_request', new RegExp(`${name}.*once`));
      expect(await jobCount(app)).toBe(jobsBefore);
      expect(env.gemini.requests).toHaveLength(0);
      await expectNothingLeft();
    });

    it('keeps the first of a duplicated optional field', async () => {
      const answer = await send(
        form([
          ...textParts(booth({ user_id: 'first' })),
          { name: 'user_id', value: 'second' },
          photoPart(photo),
        ]),
      );
      expect([answer.status, answer.json]).toEqual([200, undefined]);
      const row = await jobRow(app, answer.headers['x-job-id']);
      expect(row.client_fields.user_id).toBe('first');
      await expectNothingLeft();
    });
  });

  describe('fields beyond the limits', () => {
    it('refuses 10 000 form fields with 400 without reading them all', async () => {
      const many: Part[] = [];
      for (let i = 0; i < 10_000; i++) many.push({ name: `f${i}`, value: 'x' });
      const answer = await send(form([...textParts(booth()), ...many, photoPart(photo)]));
      expectError(answer, 400, 'invalid_request', /more than 100 form fields/i);
      expect(answer.headers.connection).toBe('close');
      await expectNothingLeft();
    });

    it('refuses a 1 MB field value with 400 naming the field', async () => {
      const answer = await send(
        form([...textParts(booth({ profile: 'p'.repeat(MB) })), photoPart(photo)]),
      );
      expectError(answer, 400, 'invalid_request', /"profile".*16384 bytes/);
      await expectNothingLeft();
    });

    it('refuses a 1 MB password with 400 (it is never truncated into a match)', async () => {
      const answer = await send(
        form([
          ...textParts(dslrFields()),
          { name: 'password', value: INGEST_PASSWORD + 'x'.repeat(MB) },
          photoPart(photo),
        ]),
      );
      expectError(answer, 400, 'invalid_request', /"password"/);
      await expectNothingLeft();
    });

    it('refuses a field name of 1 KB with 400', async () => {
      const answer = await send(
        form([...textParts(booth()), { name: 'n'.repeat(1024), value: 'v' }, photoPart(photo)]),
      );
      expectError(answer, 400, 'invalid_request', /name/);
      await expectNothingLeft();
    });
  });

  describe('a 200 MB upload without Content-Length (chunked)', () => {
    const TOTAL = 200 * MB;
    const SLICE = Buffer.alloc(256 * 1024, 0x5a);

    /**
     * Streams a part of 200 MB in chunked encoding until the server answers or closes, and
     * samples this process's memory meanwhile (the app runs in it).
     */
    /** Live memory of this process (the app runs in it), after a full collection. */
    const retained = (): number => {
      collectGarbage();
      const usage = process.memoryUsage();
      return usage.heapUsed + usage.arrayBuffers;
    };

    /**
     * Streams a part of 200 MB in chunked encoding until the server answers or closes, measuring
     * the memory still held every 2 MB.
     */
    async function streamHuge(head: Part): Promise<{
      answer: RawResponse | undefined;
      sent: number;
      memoryGrowth: number;
    }> {
      const connection = await RawConnection.open(app.url);
      await connection.write(
        requestHead('POST', '/ingest/slot-001', {
          'Content-Type': CONTENT_TYPE,
          'Transfer-Encoding': 'chunked',
        }),
      );
      const baseline = retained();
      let peak = baseline;
      let answered = false;
      void connection.response.then(() => (answered = true));
      await connection.write(
        chunk(
          Buffer.concat([
            form(textParts(booth())).subarray(0, -`--${BOUNDARY}--\r\n`.length),
            Buffer.from(partHead(head)),
          ]),
        ),
      );
      const chunkHead = Buffer.from(`${SLICE.length.toString(16)}\r\n`);
      const crlf = Buffer.from('\r\n');
      let sent = 0;
      while (sent < TOTAL && !answered) {
        // Written in three pieces: the client allocates nothing per chunk.
        const ok =
          (await connection.write(chunkHead)) &&
          (await connection.write(SLICE)) &&
          (await connection.write(crlf));
        if (!ok) break;
        sent += SLICE.length;
        if (sent % (2 * MB) === 0) peak = Math.max(peak, retained());
      }
      const answer = await connection.response;
      connection.destroy();
      return { answer, sent, memoryGrowth: peak - baseline };
    }

    it.each([
      ['as the photo', photoPart(Buffer.alloc(0))],
      ['as a file part of another name', photoPart(Buffer.alloc(0), 'other', 'big.bin')],
      ['as one text field', { name: 'profile', value: '' }],
    ])('is refused with 413 once over the limit (%s), the rest unread', async (_case, head) => {
      const jobsBefore = await jobCount(app);
      const { answer, sent, memoryGrowth } = await streamHuge(head);
      expect(answer).toBeDefined();
      expectError(answer!, 413, 'payload_too_large', /15 MB/);
      expect(answer!.headers.connection).toBe('close');
      // Refused near the 15 MB limit, far from the 200 MB the client had to send.
      expect(sent).toBeLessThan(60 * MB);
      // Streamed, not buffered: the server holds a few chunks, never the 15 MB it read.
      expect(memoryGrowth).toBeLessThan(6 * MB);
      expect(await jobCount(app)).toBe(jobsBefore);
      await expectNothingLeft();
    });
  });

  describe('unicode, NUL and path characters', () => {
    it.each([
      '../../etc/passwd',
      '..\\..\\x.jpg',
      '/etc/passwd',
      '../../../../tmp/pwned.jpg',
      'фото 📷.jpg',
      '%2e%2e%2fx.jpg',
      'C:\\Users\\Acer\\..\\..\\x.jpg',
    ])('never lets the filename %j touch a path', async (filename) => {
      const answer = await send(
        form([...textParts(booth()), photoPart(photo, 'fileToUpload', filename)]),
      );
      expect([answer.status, answer.json]).toEqual([200, undefined]);
      const jobId = answer.headers['x-job-id'];
      expect(await readdir(path.join(app.config.mediaRoot, 'results', 'slot-001', jobId))).toEqual(
        expect.arrayContaining([expect.stringMatching(/^payload\.jpg$/), 'preview.webp']),
      );
      for (const escaped of ['x.jpg', 'passwd', 'pwned.jpg']) {
        expect(existsSync(path.join(app.config.mediaRoot, escaped))).toBe(false);
        expect(existsSync(path.join(app.config.mediaRoot, 'tmp', escaped))).toBe(false);
        expect(existsSync(path.join(app.dataDir, escaped))).toBe(false);
      }
      expect(existsSync('/tmp/pwned.jpg')).toBe(false);
      await expectNothingLeft();
    });

    it('records unicode, NUL, path and SQL text in fields without failing the shot', async () => {
      const odd = {
        user_id: "'; DROP TABLE job; --",
        name: 'Свадьба 💍 «Анна & Иван»',
        profile: 'C:\\Users\\..\\..\\Windows\\system32',
        status: 'a\u0000b',
        model: '\u0000',
        hash: 'abc\u0000def',
        поле: 'значение',
        '../../x': 'path in the name',
        ['__proto__']: 'not a prototype',
        constructor: 'a field',
        "' OR 1=1 --": 'sql in the name',
      };
      const answer = await send(form([...textParts(booth(odd)), photoPart(photo)]));
      expect([answer.status, answer.json]).toEqual([200, undefined]);
      const row = await jobRow(app, answer.headers['x-job-id']);
      // NUL cannot be stored as PostgreSQL text: it is kept as U+FFFD.
      expect(row.client_fields).toMatchObject({
        user_id: "'; DROP TABLE job; --",
        name: 'Свадьба 💍 «Анна & Иван»',
        profile: 'C:\\Users\\..\\..\\Windows\\system32',
        status: 'a\uFFFDb',
        model: '\uFFFD',
        hash: 'abc\uFFFDdef',
        поле: 'значение',
        '../../x': 'path in the name',
        constructor: 'a field',
        "' OR 1=1 --": 'sql in the name',
      });
      expect(Object.getOwnPropertyDescriptor(row.client_fields, '__proto__')?.value).toBe(
        'not a prototype',
      );
      expect(row.client_fields).not.toHaveProperty('password');
      expect(row.client_hash).toBe('abc\uFFFDdef');
      expect(await sql(app.databaseUrl, 'SELECT count(*)::int AS n FROM slot')).toEqual([
        { n: 15 },
      ]);
      await expectNothingLeft();
    });

    it.each([
      ['a NUL in a filename', photoPart(Buffer.alloc(1), 'fileToUpload', 'IMG\u0000.jpg')],
      ['a NUL in a field name', { name: 'a\u0000b', value: 'x' }],
    ])('refuses %s as a broken part header with 400', async (_case, part) => {
      // HTTP header values may not hold NUL: the part cannot be trusted.
      const answer = await send(form([...textParts(booth()), part, photoPart(photo)]));
      expectError(answer, 400, 'invalid_request', /broken/);
      await expectNothingLeft();
    });

    it('refuses the photo sent as a text field (no filename) with 400 saying so', async () => {
      const answer = await send(
        form([...textParts(booth()), photoPart(photo, 'fileToUpload', '')]),
      );
      expectError(answer, 400, 'invalid_request', /"fileToUpload" part has no filename/);
      await expectNothingLeft();
    });

    it('records a field sent in UTF-16 with a lone surrogate without failing the shot', async () => {
      const loneSurrogate = Buffer.from([0x41, 0x00, 0x00, 0xd8, 0x42, 0x00]); // "A", U+D800, "B"
      const answer = await send(
        form([
          ...textParts(booth()),
          { name: 'note', value: loneSurrogate, contentType: 'text/plain; charset=utf-16le' },
          photoPart(photo),
        ]),
      );
      expect([answer.status, answer.json]).toEqual([200, undefined]);
      const row = await jobRow(app, answer.headers['x-job-id']);
      expect(row.client_fields.note).toBe('A\uFFFDB');
    });

    it('refuses a field in a charset it cannot read with 400', async () => {
      const answer = await send(
        form([
          ...textParts(booth()),
          { name: 'note', value: 'x', contentType: 'text/plain; charset=x-unknown-charset' },
          photoPart(photo),
        ]),
      );
      expectError(answer, 400, 'invalid_request', /charset/);
      await expectNothingLeft();
    });

    it('never matches the password followed by NUL bytes, and refuses NUL in a new password', async () => {
      // scrypt pads short keys with zeros: without the guard `secret\0` would hash like `secret`.
      for (const password of [`${INGEST_PASSWORD}\u0000`, `${INGEST_PASSWORD}\u0000\u0000`]) {
        const answer = await send(form([...textParts(booth({ password })), photoPart(photo)]));
        expectError(answer, 401, 'invalid_password');
      }
      const refused = await app.request('PUT', '/api/settings', {
        token: env.token,
        json: { ingest_password: 'new\u0000password' },
      });
      expect([refused.status, refused.body.failure_reason]).toEqual([422, 'validation_failed']);
      await expectNothingLeft();
    });

    it('takes a unicode password set by an admin (compared after NFKC), nothing near it', async () => {
      const unicode = 'пароль-📷-café'.normalize('NFC');
      await saveSettings(app, env.token, { ingest_password: unicode });
      try {
        for (const [password, status] of [
          [unicode, 200],
          [unicode.normalize('NFD'), 200],
          [`${unicode}\u200b`, 401],
          [unicode.slice(0, -1), 401],
        ] as const) {
          const answer = await send(form([...textParts(booth({ password })), photoPart(photo)]));
          expect([password, answer.status]).toEqual([password, status]);
        }
      } finally {
        await saveSettings(app, env.token, { ingest_password: INGEST_PASSWORD });
      }
      await expectNothingLeft();
    });
  });

  describe('SQL metacharacters and traversal in every id', () => {
    const BAD_IDS = [
      "'; DROP TABLE job; --",
      "slot-001' OR '1'='1",
      '1; DELETE FROM slot',
      `${randomUUID()}'--`,
      '../../etc/passwd',
      '..\\..\\x',
      '%00',
      'slot-001\u0000',
      'ñ😀',
      '%',
      '%zz',
      '%2e%2e%2f%2e%2e%2fetc%2fpasswd',
    ];
    /** The path segment as sent: percent-encoded unless it already is a raw escape. */
    const segment = (id: string): string =>
      /^%[0-9a-z]{0,2}$|%2e/i.test(id) ? id : encodeURIComponent(id);

    async function counts(): Promise<Record<string, number>> {
      const [row] = await sql<Record<string, number>>(
        app.databaseUrl,
        `SELECT (SELECT count(*)::int FROM job) AS job, (SELECT count(*)::int FROM slot) AS slot,
                (SELECT count(*)::int FROM template_media) AS template_media,
                (SELECT count(*)::int FROM media_object) AS media_object,
                (SELECT count(*)::int FROM gallery_share) AS gallery_share,
                (SELECT count(*)::int FROM app_settings) AS app_settings`,
      );
      return row;
    }

    it('answers every route with a 4xx JSON error and leaves the tables as they were', async () => {
      const before = await counts();
      expect(before.slot).toBe(15);
      const token = env.token;
      const routes: Array<[string, (id: string) => string, boolean]> = [
        ['POST', (id) => `/ingest/${id}`, false],
        ['POST', (id) => `/api/ingest/${id}`, false],
        ['GET', (id) => `/api/jobs/${id}`, false],
        ['POST', (id) => `/api/jobs/${id}/cancel`, true],
        ['DELETE', (id) => `/api/jobs/${id}/result`, true],
        ['GET', (id) => `/public/results/${id}`, false],
        ['GET', (id) => `/public/results/${id}/preview`, false],
        ['GET', (id) => `/public/provider-media/${id}`, false],
        ['GET', (id) => `/public/galleries/${id}`, false],
        ['GET', (id) => `/api/template-media/${id}/preview`, true],
        ['DELETE', (id) => `/api/template-media/${id}`, true],
        ['GET', (id) => `/api/slots/${id}`, true],
        ['PUT', (id) => `/api/slots/${id}`, true],
        ['POST', (id) => `/api/slots/${id}/gallery`, true],
        ['GET', (id) => `/api/slots/${id}/gallery`, true],
        ['DELETE', (id) => `/api/slots/${id}/gallery`, true],
        ['POST', (id) => `/api/slots/${id}/test-run`, true],
        ['POST', (id) => `/api/slots/${id}/cleanup`, true],
        ['GET', (id) => `/api/stats/${id}`, true],
      ];
      const seen: string[] = [];
      for (const id of BAD_IDS) {
        for (const [method, route, admin] of routes) {
          const target = route(segment(id));
          const answer = await rawRequest(method, target, admin ? token : undefined);
          seen.push(`${method} ${target} ${answer.status}`);
          expect([method, target, REFUSALS.includes(answer.status)]).toEqual([
            method,
            target,
            true,
          ]);
          expect(typeof answer.reason).toBe('string');
        }
      }
      expect(await counts()).toEqual(before);
      expect(seen.length).toBe(BAD_IDS.length * routes.length);
      await expectNothingLeft();
    });

    /** One request with the path as written and a small JSON or multipart body where one fits. */
    async function rawRequest(
      method: string,
      target: string,
      token: string | undefined,
    ): Promise<{ status: number; reason: unknown }> {
      const headers: Record<string, string | number> = { Accept: 'application/json' };
      if (token) headers.Authorization = `Bearer ${token}`;
      let body: Buffer = Buffer.alloc(0);
      if (method === 'POST' || method === 'PUT') {
        if (/ingest|test-run/.test(target)) {
          body = form([...textParts(booth()), photoPart(photo)]);
          headers['Content-Type'] = CONTENT_TYPE;
        } else {
          body = Buffer.from(JSON.stringify({ hours: 1, version: 1, display_name: "'; --" }));
          headers['Content-Type'] = 'application/json';
        }
      }
      headers['Content-Length'] = body.length;
      const connection = await RawConnection.open(app.url);
      await connection.write(requestHead(method, target, headers));
      await connection.write(body);
      const answer = await connection.response;
      connection.destroy();
      if (!answer) throw new Error(`${method} ${target}: no answer`);
      expect(answer.headers['content-type']).toMatch(/^application\/json/);
      expect(answer.json?.status).toBe('error');
      return { status: answer.status, reason: answer.json?.failure_reason };
    }
  });
});
