// Property-based tests (fast-check) at the HTTP edge: mutated multipart uploads through the real
// ingest route, and arbitrary text in every id parameter. Whatever arrives, the answer is a known
// 2xx or 4xx — never a 5xx, never a hang — and nothing is left behind.
//
// A failure prints fast-check's seed and path; replay it with
//   FUZZ_SEED=<seed> FUZZ_PATH=<path> npx jest test/fuzz.int-spec.ts
// A longer hunt: FUZZ_RUNS=3000 npx jest test/fuzz.int-spec.ts --testTimeout=900000
import fc from 'fast-check';
import { dslrFields } from './support/booth';
import { sql } from './support/database';
import { jpeg } from './support/images';
import {
  INGEST_PASSWORD,
  IngestEnv,
  jobCount,
  saveSlot,
  startIngestApp,
  stopIngestApp,
  tempFiles,
  waitFor,
} from './support/ingest-setup';
import { chunk, RawConnection, RawResponse, requestHead } from './support/raw-http';
import type { TestApp } from './support/test-app';

const BOUNDARY = 'fuzzBoundaryQ7v3XkPz0a9';
/** Every answer must come well before this; the ingest deadline (48 s) is never reached here. */
const CLIENT_TIMEOUT_MS = 15_000;
const INGEST_REASONS = [
  'invalid_request',
  'invalid_password',
  'payload_too_large',
  'unsupported_media_type',
];

function runParameters(numRuns: number): fc.Parameters<unknown> {
  const seed = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
  const runs = process.env.FUZZ_RUNS === undefined ? numRuns : Number(process.env.FUZZ_RUNS);
  return { numRuns: runs, seed, path: process.env.FUZZ_PATH, endOnFailure: false };
}

/** Sends `head` + `body` (chunked when asked) and reads the answer, or fails after the timeout. */
async function exchange(
  app: TestApp,
  head: string,
  body: Buffer[],
  options: { halfClose?: boolean } = {},
): Promise<RawResponse | undefined> {
  const connection = await RawConnection.open(app.url);
  try {
    await connection.write(head);
    if (/^expect: 100-continue$/im.test(head)) {
      // The body goes only once the server said so; a refusal before it ends the exchange.
      let answered = false;
      void connection.response.then(() => (answered = true));
      await waitFor('100 Continue or an answer', () => connection.continued || answered);
      if (answered) return await connection.response;
    }
    for (const bytes of body) if (!(await connection.write(bytes))) break;
    if (options.halfClose) connection.end();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), CLIENT_TIMEOUT_MS);
    });
    const answer = await Promise.race([connection.response, timeout]);
    clearTimeout(timer);
    if (answer === 'timeout') throw new Error(`no answer within ${CLIENT_TIMEOUT_MS} ms`);
    return answer;
  } finally {
    connection.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// (a) the multipart parser through POST /ingest/{slot_id}

interface Segment {
  bytes: Buffer;
  /** Boundary lines and part headers: where a flipped byte breaks the structure. */
  structure: boolean;
}

interface Part {
  name: string;
  value: Buffer;
  filename?: string;
  contentType?: string;
}

type Mutation =
  | { kind: 'truncate'; at: number }
  | { kind: 'flip'; at: number; xor: number }
  | { kind: 'flipAnywhere'; at: number; xor: number }
  | { kind: 'extraField'; name: string; value: Uint8Array; benign: boolean }
  | { kind: 'extraFile'; name: string; filename: string; value: Uint8Array; benign: boolean }
  | { kind: 'duplicate'; which: 'password' | 'fileToUpload' }
  | { kind: 'drop'; which: 'password' | 'fileToUpload' }
  | { kind: 'contentType'; value: string }
  | { kind: 'shortBody'; missing: number }
  | { kind: 'longBody'; extra: number };

interface Upload {
  mutations: Mutation[];
  chunked: boolean;
  /** As DSLR Remote Pro sends it: the body only after `100 Continue`. */
  expectContinue: boolean;
}

function isBenign(mutation: Mutation): boolean {
  return (mutation.kind === 'extraField' || mutation.kind === 'extraFile') && mutation.benign;
}

const RESERVED = new Set(['password', 'fileToUpload', 'file', ...Object.keys(dslrFields())]);

/** Part names a booth could send: printable, no quote or backslash, not one the server reads. */
const safeName = fc
  .string({ unit: 'grapheme', minLength: 1, maxLength: 24 })
  .filter((name) => !/["\\\r\n\0]/.test(name) && !RESERVED.has(name))
  .filter((name) => Buffer.byteLength(name) <= 200);
/** Anything at all, quotes and control characters included. */
const anyName = fc.string({ unit: 'binary', maxLength: 40 });

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant('truncate' as const),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
  }),
  fc.record({
    kind: fc.constant('flip' as const),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
    xor: fc.integer({ min: 1, max: 255 }),
  }),
  fc.record({
    kind: fc.constant('flipAnywhere' as const),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
    xor: fc.integer({ min: 1, max: 255 }),
  }),
  fc.oneof(
    fc.record({
      kind: fc.constant('extraField' as const),
      name: safeName,
      value: fc.uint8Array({ maxLength: 256 }),
      benign: fc.constant(true),
    }),
    fc.record({
      kind: fc.constant('extraField' as const),
      name: anyName,
      value: fc.uint8Array({ maxLength: 20_000 }),
      benign: fc.constant(false),
    }),
  ),
  fc.oneof(
    fc.record({
      kind: fc.constant('extraFile' as const),
      name: safeName,
      filename: safeName,
      value: fc.uint8Array({ maxLength: 2048 }),
      benign: fc.constant(true),
    }),
    fc.record({
      kind: fc.constant('extraFile' as const),
      name: anyName,
      filename: anyName,
      value: fc.uint8Array({ maxLength: 2048 }),
      benign: fc.constant(false),
    }),
  ),
  fc.record({
    kind: fc.constant('duplicate' as const),
    which: fc.constantFrom('password' as const, 'fileToUpload' as const),
  }),
  fc.record({
    kind: fc.constant('drop' as const),
    which: fc.constantFrom('password' as const, 'fileToUpload' as const),
  }),
  fc.record({
    kind: fc.constant('contentType' as const),
    value: fc.oneof(
      fc.constantFrom(
        'multipart/form-data',
        `multipart/form-data; boundary=${BOUNDARY}x`,
        `multipart/form-data; boundary="${BOUNDARY}"`,
        `multipart/mixed; boundary=${BOUNDARY}`,
        `MULTIPART/FORM-DATA; BOUNDARY=${BOUNDARY}`,
        'multipart/form-data; boundary=',
        'application/octet-stream',
        'image/jpeg',
        'text/plain',
      ),
      fc.string({ unit: 'binary-ascii', maxLength: 80 }).map((text) =>
        // A header value cannot hold line breaks or NUL: the request itself would change shape.
        text.replace(/[\r\n\0]/g, ' '),
      ),
      fc
        .string({ unit: 'grapheme-ascii', maxLength: 60 })
        .map((text) => `multipart/form-data; boundary=${text}`),
    ),
  }),
  fc.record({
    kind: fc.constant('shortBody' as const),
    missing: fc.integer({ min: 1, max: 4096 }),
  }),
  fc.record({ kind: fc.constant('longBody' as const), extra: fc.integer({ min: 1, max: 4096 }) }),
);

const upload: fc.Arbitrary<Upload> = fc.record({
  mutations: fc.array(mutation, { maxLength: 3 }),
  chunked: fc.boolean(),
  expectContinue: fc.boolean(),
});

function partSegments(part: Part): Segment[] {
  const filename = part.filename === undefined ? '' : `; filename="${part.filename}"`;
  const type = part.contentType ? `\r\nContent-Type: ${part.contentType}` : '';
  return [
    {
      bytes: Buffer.from(
        `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${part.name}"${filename}${type}\r\n\r\n`,
      ),
      structure: true,
    },
    { bytes: part.value, structure: false },
    { bytes: Buffer.from('\r\n'), structure: true },
  ];
}

/** The booth's request with the mutations applied: head, body slices, and how it is sent. */
function build(
  photo: Buffer,
  { mutations, chunked, expectContinue }: Upload,
): { head: string; body: Buffer[]; halfClose: boolean } {
  const parts: Part[] = Object.entries(dslrFields()).map(([name, value]) => ({
    name,
    value: Buffer.from(value),
  }));
  const password: Part = { name: 'password', value: Buffer.from(INGEST_PASSWORD) };
  const file: Part = {
    name: 'fileToUpload',
    value: photo,
    filename: 'IMG_0001.JPG',
    contentType: 'image/jpeg',
  };
  let withPassword = 1;
  let withFile = 1;
  for (const change of mutations) {
    if (change.kind === 'duplicate') {
      if (change.which === 'password') withPassword++;
      else withFile++;
    }
    if (change.kind === 'drop') {
      if (change.which === 'password') withPassword = 0;
      else withFile = 0;
    }
  }
  for (let i = 0; i < withPassword; i++) parts.push(password);
  for (const change of mutations) {
    if (change.kind === 'extraField') {
      parts.push({ name: change.name, value: Buffer.from(change.value) });
    }
    if (change.kind === 'extraFile') {
      parts.push({
        name: change.name,
        filename: change.filename,
        value: Buffer.from(change.value),
        contentType: 'application/octet-stream',
      });
    }
  }
  for (let i = 0; i < withFile; i++) parts.push(file);

  const segments = parts.flatMap(partSegments);
  segments.push({ bytes: Buffer.from(`--${BOUNDARY}--\r\n`), structure: true });
  let body = Buffer.concat(segments.map((segment) => segment.bytes));
  const structureOffsets: number[] = [];
  let offset = 0;
  for (const segment of segments) {
    if (segment.structure) {
      for (let i = 0; i < segment.bytes.length; i++) structureOffsets.push(offset + i);
    }
    offset += segment.bytes.length;
  }

  let contentType = `multipart/form-data; boundary=${BOUNDARY}`;
  let missing = 0;
  let extra = 0;
  for (const change of mutations) {
    switch (change.kind) {
      case 'flip': {
        const at = structureOffsets[Math.floor(change.at * (structureOffsets.length - 1))];
        if (at !== undefined && at < body.length) body[at] ^= change.xor;
        break;
      }
      case 'flipAnywhere': {
        if (body.length > 0) body[Math.floor(change.at * (body.length - 1))] ^= change.xor;
        break;
      }
      case 'truncate':
        body = body.subarray(0, Math.floor(change.at * body.length));
        break;
      case 'contentType':
        contentType = change.value;
        break;
      case 'shortBody':
        missing = Math.max(missing, change.missing);
        break;
      case 'longBody':
        extra = Math.max(extra, change.extra);
        break;
      case 'extraField':
      case 'extraFile':
      case 'duplicate':
      case 'drop':
        break;
    }
  }

  const headers: Record<string, string | number> = { 'Content-Type': contentType };
  if (expectContinue) headers.Expect = '100-continue';
  if (chunked) {
    // A short chunked body is one whose terminating chunk never comes.
    const sent = missing > 0 ? body.subarray(0, Math.max(0, body.length - missing)) : body;
    headers['Transfer-Encoding'] = 'chunked';
    const chunks = [];
    for (let start = 0; start < sent.length; start += 4096) {
      chunks.push(chunk(sent.subarray(start, start + 4096)));
    }
    if (missing === 0) chunks.push(chunk(Buffer.alloc(0)));
    return {
      head: requestHead('POST', '/ingest/slot-001', headers),
      body: chunks,
      halfClose: missing > 0,
    };
  }
  // Too long a body: what follows the declared length reads as a next request (garbage).
  headers['Content-Length'] = Math.max(0, body.length + missing - (missing > 0 ? 0 : extra));
  return {
    head: requestHead('POST', '/ingest/slot-001', headers),
    body: [body],
    halfClose: missing > 0,
  };
}

// ---------------------------------------------------------------------------------------------
// (b) id parameters

interface IdRoute {
  method: 'GET' | 'DELETE';
  path: (id: string) => string;
  admin: boolean;
}

const ID_ROUTES: IdRoute[] = [
  { method: 'GET', path: (id) => `/api/jobs/${id}`, admin: false },
  { method: 'GET', path: (id) => `/api/jobs/${id}`, admin: true },
  { method: 'DELETE', path: (id) => `/api/jobs/${id}/result`, admin: true },
  { method: 'GET', path: (id) => `/public/results/${id}`, admin: false },
  { method: 'GET', path: (id) => `/public/results/${id}/preview`, admin: false },
  { method: 'GET', path: (id) => `/public/provider-media/${id}`, admin: false },
  { method: 'GET', path: (id) => `/public/galleries/${id}`, admin: false },
  { method: 'GET', path: (id) => `/api/template-media/${id}/preview`, admin: true },
  { method: 'DELETE', path: (id) => `/api/template-media/${id}`, admin: true },
  { method: 'GET', path: (id) => `/api/slots/${id}`, admin: true },
  { method: 'GET', path: (id) => `/api/slots/${id}/gallery`, admin: true },
  { method: 'DELETE', path: (id) => `/api/slots/${id}/gallery`, admin: true },
  { method: 'GET', path: (id) => `/api/stats/${id}`, admin: true },
];

/** What an id that names nothing may get. */
const ID_REFUSALS = [400, 404, 410, 422];

/** A real slot or a sibling route (`/api/stats/overview`) is not a bad id. */
function namesSomething(segment: string): boolean {
  let decoded = segment;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    return false;
  }
  return /^slot-\d{3}$/.test(decoded) || ['overview', 'global'].includes(decoded);
}

const pathish = fc
  .array(
    fc.constantFrom(
      '..',
      '.',
      '/',
      '\\',
      '%2e',
      '%2E',
      '%2f',
      '%2F',
      '%5c',
      '%00',
      '%',
      '%zz',
      '%c0%af',
      '%252e',
      'etc',
      'passwd',
      'slot-001',
      "'",
      '";',
      ' OR 1=1',
      '--',
      'DROP TABLE job',
      '00000000-0000-4000-8000-000000000000',
      'ÿ',
      '😀',
    ),
    { minLength: 1, maxLength: 8 },
  )
  // A raw space would end the request line: the router would never see the id.
  .map((pieces) => pieces.join('').replaceAll(' ', '%20'));

/** The id as it goes on the wire: percent-encoded, or raw bytes for the router to cope with. */
const idSegment: fc.Arbitrary<string> = fc
  .oneof(
    fc.string({ unit: 'binary', minLength: 1, maxLength: 60 }).map(encodeURIComponent),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 }).map(encodeURIComponent),
    pathish,
    // Raw text: `?` and `#` would end the path (the id would be gone), space ends the request line.
    fc
      .string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 60 })
      .map((text) => text.replace(/[?# ]/g, '_')),
  )
  .filter((segment) => segment.length > 0 && !namesSomething(segment));

describe('fuzz: ingest multipart and id parameters', () => {
  let env: IngestEnv;
  let app: TestApp;
  let photo: Buffer;

  async function runningJobs(): Promise<number> {
    const [row] = await sql<{ n: number }>(
      app.databaseUrl,
      `SELECT count(*)::int AS n FROM job WHERE status IN ('pending', 'processing')`,
    );
    return row.n;
  }

  beforeAll(async () => {
    env = await startIngestApp();
    app = env.app;
    // Small, so a valid upload is quick; the fake Gemini echoes it back at once.
    photo = await jpeg(48, 32);
    await saveSlot(app, env.token, 'slot-001');
  });

  afterAll(() => stopIngestApp(env));

  it('answers any mutation of a booth upload with 200 or a known 4xx, leaving nothing behind', async () => {
    const seen = new Set<number | undefined>();
    await fc.assert(
      fc.asyncProperty(upload, async (shape) => {
        const { head, body, halfClose } = build(photo, shape);
        const jobsBefore = await jobCount(app);
        const answer = await exchange(app, head, body, { halfClose });
        const benign = shape.mutations.every(isBenign);
        seen.add(answer?.status);

        if (benign) {
          expect([answer?.status, answer?.json]).toEqual([200, undefined]);
        }
        if (answer === undefined) {
          // Only a request cut short may lose its answer, never a complete one.
          expect(halfClose).toBe(true);
        } else if (answer.status === 200) {
          expect(answer.headers['content-type']).toMatch(/^image\/(jpeg|png|webp)$/);
          const [job] = await sql<{ status: string }>(
            app.databaseUrl,
            'SELECT status FROM job WHERE id = $1',
            [answer.headers['x-job-id']],
          );
          expect(job).toEqual({ status: 'completed' });
        } else {
          expect({ status: answer.status, body: answer.json }).toEqual({
            status: expect.any(Number),
            body: {
              status: 'error',
              failure_reason: expect.any(String),
              message: expect.any(String),
            },
          });
          expect([400, 401, 413, 415]).toContain(answer.status);
          expect(INGEST_REASONS).toContain(answer.json.failure_reason);
          expect(answer.headers['content-type']).toMatch(/^application\/json/);
        }
        const created = answer?.status === 200 && !answer.headers['x-deduplicated'] ? 1 : 0;
        expect(await jobCount(app)).toBe(jobsBefore + created);
        await waitFor(
          'MEDIA_ROOT/tmp to be empty',
          async () => (await tempFiles(app)).length === 0,
          3_000,
        );
        expect(await runningJobs()).toBe(0);
      }),
      runParameters(150),
    );
    // The mutations reach both sides: uploads that still work and uploads that are refused.
    expect(seen).toContain(200);
    expect(seen).toContain(400);
    // Only the successes reached the provider.
    expect(env.gemini.requests.length).toBe(await jobCount(app));
  });

  it('answers any id in any id route with a 4xx JSON error, never a 5xx', async () => {
    const counts = (): Promise<unknown[]> =>
      sql(
        app.databaseUrl,
        `SELECT (SELECT count(*)::int FROM job) AS job, (SELECT count(*)::int FROM slot) AS slot,
                (SELECT count(*)::int FROM template_media) AS template_media,
                (SELECT count(*)::int FROM gallery_share) AS gallery_share`,
      );
    const before = await counts();
    await fc.assert(
      fc.asyncProperty(idSegment, async (segment) => {
        for (const route of ID_ROUTES) {
          const target = route.path(segment);
          const headers: Record<string, string> = { Accept: 'application/json' };
          if (route.admin) headers.Authorization = `Bearer ${env.token}`;
          const answer = await exchange(app, requestHead(route.method, target, headers), []);
          const seen = {
            request: `${route.method} ${target}`,
            status: answer?.status,
            json: answer?.json?.status,
          };
          expect(seen).toEqual({
            request: seen.request,
            status: expect.any(Number),
            json: 'error',
          });
          expect([seen.request, ID_REFUSALS.includes(answer!.status)]).toEqual([
            seen.request,
            true,
          ]);
          expect(answer!.headers['content-type']).toMatch(/^application\/json/);
        }
      }),
      runParameters(100),
    );
    expect(await counts()).toEqual(before);
  });
});
