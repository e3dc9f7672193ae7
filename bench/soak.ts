/**
 * Soak: booths, guests and an admin at a steady rate for a long time (issue 8). Not run in CI.
 *
 * Usage: npm run soak [-- --minutes N] [--rate R] [--seed S] [--no-build] [--keep]
 *
 * Starts the server as production does (bench/support/server.ts: `node dist/src/main.js`,
 * embedded PostgreSQL in a temp DATA_DIR) and a fake Gemini in this process, then for N minutes
 * (30) starts R ingests a second (2) on a fixed schedule whatever the earlier ones are doing
 * (open loop), over the 15 slots, with photo kinds, booth behaviours and provider answers drawn
 * from a generator seeded with S. Beside them: guests downloading recent results and previews,
 * admin reads (statistics, slots, jobs, audit, galleries), a settings save every minute and a
 * slot save every 90 s. Every minute a line of figures; at the end two verdicts, and a non-zero
 * exit code when either fails:
 *   (a) zero lost jobs: every shot answered (or dropped on purpose by the booth), each answer
 *       matching its job row, no job pending/processing a minute after the traffic stops, no
 *       temp file left, result folders only for completed jobs, every 200's result link giving
 *       the same bytes as the answer;
 *   (b) flat memory: the server's median RSS and heap used over the last third of the run at
 *       most MEMORY_TOLERANCE above the second third's (the first third is warm-up).
 * --keep keeps the temp folder (server log, DATA_DIR); it is kept anyway on FAIL.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  createWriteStream,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { writeAdminPasswords } from '../src/auth/credentials-file';
import { EmbeddedPostgres } from '../src/database/embedded-postgres';
import { FakeGemini, GeminiBehaviour, GeminiReply } from '../test/fakes/fake-gemini';
import { dslrFields } from '../test/support/booth';
import { api, configure } from './support/admin';
import { Shot, ShotOptions, shoot } from './support/booth';
import { mb, median, metricValue, percentile, procStatus } from './support/figures';
import { jpegPhoto, Photo, pngPhoto } from './support/photos';
import {
  ADMIN_PASSWORD,
  INGEST_PASSWORD,
  ROOT,
  RunningServer,
  SLOTS,
  sleep,
  startServer,
} from './support/server';

/** SPEC's deadline setting is global: short, so timeouts come quickly, yet leaving room for one retry. */
const DEADLINE_SECONDS = 20;
const SLOT_CONCURRENCY = 4;
const GEMINI_CONCURRENCY = 16;
const MEMORY_TOLERANCE = 0.1;
const SAMPLE_MS = 5_000;
/** After the traffic stops, every job must be final within this. */
const SETTLE_MS = 60_000;

interface Options {
  minutes: number;
  rate: number;
  seed: number;
  build: boolean;
  keep: boolean;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { minutes: 30, rate: 2, seed: 8, build: true, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--minutes') options.minutes = Number(argv[++i]);
    else if (arg === '--rate') options.rate = Number(argv[++i]);
    else if (arg === '--seed') options.seed = Number(argv[++i]);
    else if (arg === '--no-build') options.build = false;
    else if (arg === '--keep') options.keep = true;
    else throw new Error(`unknown argument ${arg}`);
  }
  if (!(options.minutes > 0)) throw new Error('--minutes: a positive number');
  if (!(options.rate > 0 && options.rate <= 50)) throw new Error('--rate: ingests a second, ≤ 50');
  if (!Number.isInteger(options.seed)) throw new Error('--seed: an integer');
  return options;
}

// ---------------------------------------------------------------------------------------------
// Chance, repeatable: mulberry32

type Random = () => number;

function seeded(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(random: Random, table: ReadonlyArray<readonly [number, T]>): T {
  const total = table.reduce((sum, [weight]) => sum + weight, 0);
  let roll = random() * total;
  for (const [weight, value] of table) {
    roll -= weight;
    if (roll < 0) return value;
  }
  return table[table.length - 1][1];
}

const between = (random: Random, low: number, high: number): number =>
  low + random() * (high - low);

// ---------------------------------------------------------------------------------------------
// The provider: each call draws its fate

type ProviderMove =
  'success' | 'error500' | 'unavailable' | 'blocked' | 'refused' | 'late' | 'hang';

const PROVIDER_MIX: ReadonlyArray<readonly [number, ProviderMove]> = [
  [74, 'success'], // the edited photo after 1–5 s
  [8, 'error500'], // 500 INTERNAL within a second: retried
  [3, 'unavailable'], // 503 overloaded: retried
  [5, 'blocked'], // 200 without an image (prompt blocked or IMAGE_SAFETY): 502 blocked
  [2, 'refused'], // 400 INVALID_ARGUMENT: 502 provider_error, not retried
  [5, 'late'], // the photo, 5 s after the deadline: 504, the late answer ignored
  [3, 'hang'], // never answers: 504 at the deadline
];

function provider(gemini: FakeGemini, random: Random, tally: Map<string, number>) {
  const behaviour: GeminiBehaviour = (exchange) => {
    // Nothing is kept of the calls: over half an hour they would be gigabytes.
    gemini.requests.length = 0;
    const move = pick(random, PROVIDER_MIX);
    tally.set(move, (tally.get(move) ?? 0) + 1);
    const after = (ms: number, reply: GeminiBehaviour) => GeminiReply.delay(ms, reply)(exchange);
    switch (move) {
      case 'success':
        return after(between(random, 1000, 5000), GeminiReply.echoPhoto());
      case 'error500':
        return after(
          between(random, 200, 1000),
          GeminiReply.error(500, 'INTERNAL', 'An internal error has occurred.'),
        );
      case 'unavailable':
        return after(between(random, 200, 1000), GeminiReply.unavailable());
      case 'blocked':
        return after(
          between(random, 1000, 3000),
          random() < 0.5
            ? GeminiReply.blocked('PROHIBITED_CONTENT')
            : GeminiReply.finishReason('IMAGE_SAFETY', 'Unable to show the generated image.'),
        );
      case 'refused':
        return after(
          500,
          GeminiReply.error(400, 'INVALID_ARGUMENT', 'Request contains an invalid argument.'),
        );
      case 'late':
        return after((DEADLINE_SECONDS + 5) * 1000, GeminiReply.echoPhoto());
      case 'hang':
        return GeminiReply.hang()(exchange);
    }
  };
  return behaviour;
}

// ---------------------------------------------------------------------------------------------
// The booths

type Plan =
  | 'normal'
  | 'wrong-password'
  | 'no-password'
  | 'unknown-slot'
  | 'not-image'
  | 'drop-upload'
  | 'drop-wait';

const BOOTH_MIX: ReadonlyArray<readonly [number, Plan]> = [
  [85, 'normal'],
  [2, 'wrong-password'],
  [1, 'no-password'],
  [1, 'unknown-slot'],
  [1, 'not-image'],
  [4, 'drop-upload'], // Wi-Fi gone mid-upload
  [6, 'drop-wait'], // gone while the provider works; half of them send the same shot again
];

/** What each refusal must look like (SPEC §4). */
const REFUSALS: Partial<Record<Plan, { status: number; reason: string }>> = {
  'wrong-password': { status: 401, reason: 'invalid_password' },
  'no-password': { status: 400, reason: 'invalid_request' },
  'unknown-slot': { status: 404, reason: 'slot_not_found' },
  'not-image': { status: 415, reason: 'unsupported_media_type' },
};

interface Kinds {
  table: ReadonlyArray<readonly [number, Photo]>;
  notImage: Photo;
}

async function makePhotos(): Promise<Kinds> {
  const started = Date.now();
  // A camera held upright: the 12 MP shot carries EXIF orientation 6.
  const mp12 = await jpegPhoto('12 MP JPEG', 4000, 3000, 14, 92, 6);
  const png2 = await pngPhoto('2 MP PNG', 1732, 1155);
  const mp5 = await jpegPhoto('5 MP JPEG', 2592, 1944, 10, 90);
  const mp2 = await jpegPhoto('2 MP JPEG', 1600, 1200, 8, 88);
  const table = [
    [30, mp12],
    [15, png2],
    [25, mp5],
    [30, mp2],
  ] as const;
  console.log(
    `photos generated in ${((Date.now() - started) / 1000).toFixed(1)} s: ` +
      table.map(([w, p]) => `${p.label} ${mb(p.bytes.length)} MB (${w} %)`).join(', '),
  );
  const notImage: Photo = {
    label: 'text named .jpg',
    bytes: Buffer.from('This is not a photo.\n'.repeat(500)),
    mimeType: 'image/jpeg',
    fileName: 'IMG_0002.JPG',
    width: 0,
    height: 0,
  };
  return { table, notImage };
}

interface IngestRecord {
  n: number;
  plan: Plan | 'retry';
  slot: string;
  kind: string;
  clientId: string;
  /** For a retry: the shot it repeats; for a dropped wait: its retry, when there is one. */
  sibling?: IngestRecord;
  shot?: Shot;
}

function jobIdOf(shot: Shot): string | undefined {
  const header = shot.headers?.['x-job-id'];
  return (typeof header === 'string' ? header : undefined) ?? shot.json?.job_id;
}

function outcomeKey(record: IngestRecord): string {
  const shot = record.shot;
  if (!shot) return 'in flight';
  if (shot.dropped) return `dropped mid-${shot.dropped}`;
  if (shot.status === 0) return 'NO ANSWER';
  return shot.status === 200
    ? shot.headers?.['x-deduplicated']
      ? '200 deduplicated'
      : '200'
    : `${shot.status} ${shot.json?.failure_reason ?? '?'}`;
}

// ---------------------------------------------------------------------------------------------
// Side traffic: guests and the admin

class SideTraffic {
  readonly counts = new Map<string, { ok: number; failed: number }>();
  readonly failures: string[] = [];
  private readonly pending = new Set<Promise<void>>();

  track(label: string, work: () => Promise<boolean | string>): void {
    const run = (async () => {
      let verdict: boolean | string;
      try {
        verdict = await work();
      } catch (error) {
        verdict = error instanceof Error ? error.message : String(error);
      }
      const entry = this.counts.get(label) ?? { ok: 0, failed: 0 };
      if (verdict === true) entry.ok++;
      else {
        entry.failed++;
        if (this.failures.length < 20) this.failures.push(`${label}: ${String(verdict)}`);
      }
      this.counts.set(label, entry);
    })();
    this.pending.add(run);
    void run.finally(() => this.pending.delete(run));
  }

  async drain(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  get failed(): number {
    return [...this.counts.values()].reduce((sum, entry) => sum + entry.failed, 0);
  }

  get total(): number {
    return [...this.counts.values()].reduce((sum, entry) => sum + entry.ok + entry.failed, 0);
  }
}

async function status(url: string, init: RequestInit = {}): Promise<boolean | string> {
  const response = await fetch(url, init);
  await response.arrayBuffer();
  return response.ok || `${response.status}`;
}

// ---------------------------------------------------------------------------------------------
// Watching the server

interface Sample {
  at: number;
  rss: number;
  heapUsed: number;
  loopP99: number;
}

async function sampleServer(server: RunningServer, startedAt: number): Promise<Sample> {
  const rss = procStatus(server.child.pid, 'VmRSS');
  let heapUsed = NaN;
  let loopP99 = NaN;
  try {
    // A scrape also resets prom-client's event-loop histogram: p99 is over the last SAMPLE_MS.
    const text = await (await fetch(`${server.url}/metrics`)).text();
    heapUsed = metricValue(text, 'nodejs_heap_size_used_bytes');
    loopP99 = metricValue(text, 'nodejs_eventloop_lag_p99_seconds') * 1000;
  } catch {
    // counted as a gap in the samples
  }
  return { at: Date.now() - startedAt, rss, heapUsed, loopP99 };
}

function countFiles(folder: string): number {
  if (!existsSync(folder)) return 0;
  let count = 0;
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    count += entry.isDirectory() ? countFiles(path.join(folder, entry.name)) : 1;
  }
  return count;
}

async function jobsByStatus(db: Client): Promise<Record<string, number>> {
  const { rows } = await db.query<{ status: string; count: string }>(
    'SELECT status, count(*) AS count FROM job GROUP BY status ORDER BY status',
  );
  return Object.fromEntries(rows.map((row) => [row.status, Number(row.count)]));
}

const clock = (ms: number): string => {
  const s = Math.round(ms / 1000);
  return `${String(Math.floor(s / 60)).padStart(2)}:${String(s % 60).padStart(2, '0')}`;
};

function tallyText(entries: Iterable<[string, number]>): string {
  return [...entries]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, count]) => `${key}:${count}`)
    .join(' ');
}

// ---------------------------------------------------------------------------------------------
// The verdicts

interface JobRow {
  id: string;
  slot_id: string;
  status: string;
  failure_reason: string | null;
  client_id: string | null;
  source: string;
  result_checksum: string | null;
  result_size_bytes: string | null;
  result_path: string | null;
}

const FINAL = new Set([
  'completed',
  'failed_timeout',
  'failed_provider',
  'failed_internal',
  'cancelled',
]);

/** The job status an error answer implies (SPEC §4, docs/ingest.md). */
function statusForAnswer(httpStatus: number, reason: string | undefined): string[] {
  if (httpStatus === 504) return ['failed_timeout'];
  if (httpStatus === 409 && reason === 'cancelled') return ['cancelled'];
  if (reason === 'storage_full' || reason === 'internal') return ['failed_internal'];
  if (httpStatus === 502 || httpStatus === 503) return ['failed_provider'];
  return [];
}

/** Every answer against the job rows; returns the problems found. */
function checkAnswers(records: IngestRecord[], rows: JobRow[]): string[] {
  const problems: string[] = [];
  const byId = new Map(rows.map((row) => [row.id, row]));
  const byClient = new Map<string, JobRow[]>();
  for (const row of rows) {
    if (row.client_id) byClient.set(row.client_id, [...(byClient.get(row.client_id) ?? []), row]);
  }
  const sent = new Map<string, number>();
  for (const record of records) sent.set(record.clientId, (sent.get(record.clientId) ?? 0) + 1);

  for (const record of records) {
    const shot = record.shot;
    const name = `#${record.n} ${record.plan} ${record.slot} ${record.kind}`;
    if (!shot) {
      problems.push(`${name}: never settled`);
      continue;
    }
    const jobId = jobIdOf(shot);
    const ownRows = byClient.get(record.clientId) ?? [];
    if (shot.status === 0) {
      if (shot.dropped === 'upload' && ownRows.length > 0) {
        problems.push(`${name}: a photo cut off mid-upload became job ${ownRows[0].id}`);
      } else if (!shot.dropped) {
        problems.push(`${name}: LOST — no answer (${shot.error ?? 'no error'})`);
      }
      continue;
    }
    if (shot.error) problems.push(`${name}: ${shot.status} but ${shot.error}`);
    const refusal = REFUSALS[record.plan as Plan];
    if (refusal) {
      if (shot.status !== refusal.status || shot.json?.failure_reason !== refusal.reason) {
        problems.push(
          `${name}: answered ${outcomeKey(record)}, expected ${refusal.status} ${refusal.reason}`,
        );
      }
    }
    if (!jobId) {
      if (shot.status === 200) problems.push(`${name}: 200 without X-Job-Id`);
      else if (shot.status >= 500 && shot.json?.failure_reason !== 'storage_full') {
        problems.push(`${name}: ${outcomeKey(record)} without a job`);
      }
      // A refusal made no job — unless it repeats a shot whose first try made one.
      if (ownRows.length > 0 && !record.sibling) {
        problems.push(`${name}: refused (${outcomeKey(record)}) yet job ${ownRows[0].id} exists`);
      }
      continue;
    }
    const row = byId.get(jobId);
    if (!row) {
      problems.push(`${name}: ${outcomeKey(record)} names job ${jobId}, which has no row`);
      continue;
    }
    if (row.client_id !== record.clientId) {
      problems.push(`${name}: job ${jobId} belongs to booth shot ${row.client_id}`);
    }
    if (shot.status === 200) {
      if (row.status !== 'completed') problems.push(`${name}: 200 but job ${jobId} ${row.status}`);
      if (row.result_checksum !== shot.sha256 || Number(row.result_size_bytes) !== shot.bytes) {
        problems.push(`${name}: the answer's bytes differ from job ${jobId}'s stored result`);
      }
    } else {
      const expected = statusForAnswer(shot.status, shot.json?.failure_reason);
      if (!expected.includes(row.status) || row.failure_reason !== shot.json?.failure_reason) {
        problems.push(
          `${name}: answered ${outcomeKey(record)} but job ${jobId} is ${row.status}/${row.failure_reason}`,
        );
      }
    }
  }
  for (const row of rows) {
    if (!FINAL.has(row.status)) problems.push(`job ${row.id} still ${row.status}`);
    if (row.source !== 'ingest') continue;
    const shots = row.client_id ? (sent.get(row.client_id) ?? 0) : 0;
    const jobs = row.client_id ? (byClient.get(row.client_id)?.length ?? 0) : 0;
    if (shots === 0) problems.push(`job ${row.id} matches no shot that was sent`);
    else if (jobs > shots) problems.push(`${jobs} jobs for ${shots} shots of ${row.client_id}`);
  }
  return problems;
}

/** Result folders exist for completed jobs, and only for them. */
function checkResultFolders(mediaRoot: string, rows: JobRow[]): string[] {
  const problems: string[] = [];
  const byId = new Map(rows.map((row) => [row.id, row]));
  const results = path.join(mediaRoot, 'results');
  const seen = new Set<string>();
  for (const slot of existsSync(results) ? readdirSync(results) : []) {
    for (const jobId of readdirSync(path.join(results, slot))) {
      seen.add(jobId);
      const row = byId.get(jobId);
      if (row?.status !== 'completed') {
        problems.push(
          `results/${slot}/${jobId} left for a job that is ${row?.status ?? 'unknown'}`,
        );
      }
    }
  }
  for (const row of rows) {
    if (row.status !== 'completed') continue;
    if (
      !seen.has(row.id) ||
      !row.result_path ||
      !existsSync(path.join(mediaRoot, row.result_path))
    ) {
      problems.push(`completed job ${row.id} has no result file`);
    }
  }
  return problems;
}

/** Downloads every 200's result link, a few at a time, and compares it with the answer. */
async function checkDownloads(
  records: IngestRecord[],
): Promise<{ checked: number; problems: string[] }> {
  const links = new Map<string, { url: string; sha256: string }>();
  for (const record of records) {
    const shot = record.shot;
    const url = shot?.headers?.['x-result-url'];
    if (shot?.status === 200 && typeof url === 'string' && shot.sha256) {
      links.set(url, { url, sha256: shot.sha256 });
    }
  }
  const problems: string[] = [];
  const queue = [...links.values()];
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let link = queue.shift(); link; link = queue.shift()) {
        try {
          const response = await fetch(link.url);
          const bytes = Buffer.from(await response.arrayBuffer());
          const sha256 = createHash('sha256').update(bytes).digest('hex');
          if (response.status !== 200) problems.push(`${link.url}: ${response.status}`);
          else if (sha256 !== link.sha256)
            problems.push(`${link.url}: other bytes than the answer`);
        } catch (error) {
          problems.push(`${link.url}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    }),
  );
  return { checked: links.size, problems };
}

function thirds(samples: Sample[], durationMs: number, pick: (sample: Sample) => number) {
  const within = (from: number, to: number) =>
    samples
      .filter((sample) => sample.at >= from && sample.at < to)
      .map(pick)
      .filter(Number.isFinite);
  return [0, 1, 2].map((i) =>
    median(within((durationMs * i) / 3, (durationMs * (i + 1)) / 3 + (i === 2 ? 1 : 0))),
  );
}

/** Lines by level, and the events logged as warnings or errors, from the server's JSON log. */
function logSummary(file: string): string {
  const levels = new Map<string, number>();
  const events = new Map<string, number>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const entry = JSON.parse(line) as { level?: string; event?: string };
      const level = entry.level ?? '?';
      levels.set(level, (levels.get(level) ?? 0) + 1);
      if (level === 'warn' || level === 'error' || level === 'fatal') {
        const key = `${level} ${entry.event ?? '?'}`;
        events.set(key, (events.get(key) ?? 0) + 1);
      }
    } catch {
      // a line cut by the stop
    }
  }
  return `${tallyText(levels)}; ${tallyText(events) || 'no warnings'}`;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  const trafficMs = options.minutes * 60_000;
  const load = () =>
    loadavg()
      .map((value) => value.toFixed(2))
      .join(' ');
  console.log(
    `soak: ${options.minutes} min at ${options.rate} ingests/s, seed ${options.seed}; ` +
      `load average ${load()} on ${availableParallelism()} cores`,
  );
  if (options.build) execFileSync('npm', ['run', 'build:server'], { cwd: ROOT, stdio: 'inherit' });

  const workDir = mkdtempSync(path.join(tmpdir(), 'photochanger-soak-'));
  const dataDir = path.join(workDir, 'data');
  const mediaRoot = path.join(dataDir, 'media');
  // The embedded PostgreSQL runs as its own user when we are root: it must reach DATA_DIR.
  chmodSync(workDir, 0o755);
  const serverLog = path.join(workDir, 'server.log');
  let gemini: FakeGemini | undefined;
  let server: RunningServer | undefined;
  let db: Client | undefined;
  let passed = false;

  // Whatever hangs, the run ends: the server gets its SIGTERM, then this process exits.
  const watchdogMs = trafficMs + 15 * 60_000;
  const watchdog = setTimeout(() => {
    console.error(`soak: still running after ${watchdogMs / 60_000} min, giving up (FAIL)`);
    setTimeout(() => process.exit(2), 60_000).unref();
    void (server?.child.stop('SIGTERM', 30_000) ?? Promise.resolve()).finally(() =>
      process.exit(2),
    );
  }, watchdogMs);
  watchdog.unref();
  // Stopped by hand: the server still drains and stops its PostgreSQL, or that would outlive us.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`soak: ${signal}, stopping the server; ${workDir} is kept`);
      setTimeout(() => process.exit(130), 60_000).unref();
      void (server?.child.stop('SIGTERM', 30_000) ?? Promise.resolve()).finally(() =>
        process.exit(130),
      );
    });
  }

  try {
    const kinds = await makePhotos();
    await writeAdminPasswords(path.join(dataDir, 'secrets', 'runtime_credentials.json'), {
      serg: ADMIN_PASSWORD,
    });
    gemini = await FakeGemini.start();
    const providerTally = new Map<string, number>();
    gemini.respondWith(provider(gemini, seeded(options.seed * 3 + 1), providerTally));
    server = await startServer(dataDir, gemini.baseUrl, {});
    const logFile = createWriteStream(serverLog);
    server.child.process.stdout?.pipe(logFile);
    server.child.process.stderr?.pipe(logFile);
    const base = server.url;
    const token = await configure(base, {
      sync_response_seconds: DEADLINE_SECONDS,
      slot_concurrency: SLOT_CONCURRENCY,
      provider_concurrency: { gemini: GEMINI_CONCURRENCY },
    });
    const galleries: string[] = [];
    for (const slot of SLOTS.slice(0, 3)) {
      const link = (await api(base, 'POST', `/api/slots/${slot}/gallery`, token, {
        hours: 24,
      })) as { url: string };
      galleries.push(link.url);
    }
    const dbUrl = await EmbeddedPostgres.runningUrl(dataDir);
    if (!dbUrl) throw new Error(`no running PostgreSQL recorded in ${dataDir}`);
    db = new Client({ connectionString: dbUrl });
    // The server stopping its PostgreSQL ends this connection: reported by the next query.
    db.on('error', (error) => console.error(`database connection: ${error.message}`));
    await db.connect();
    console.log(
      `server pid ${server.child.pid} (${server.allocator}) at ${base}; DATA_DIR ${dataDir}; ` +
        `deadline ${DEADLINE_SECONDS} s, slot_concurrency ${SLOT_CONCURRENCY}, ` +
        `gemini concurrency ${GEMINI_CONCURRENCY}; server log ${serverLog}`,
    );

    // ----- traffic
    const traffic = seeded(options.seed);
    const side = seeded(options.seed * 3 + 2);
    const records: IngestRecord[] = [];
    const inFlight = new Set<Promise<void>>();
    const sideTraffic = new SideTraffic();
    const samples: Sample[] = [];
    const startedAt = Date.now();
    const timeoutMs = (DEADLINE_SECONDS + 30) * 1000;

    const send = (
      record: IngestRecord,
      photo: Photo,
      fields: Record<string, string>,
      url: string,
      extra: Partial<ShotOptions>,
    ) => {
      records.push(record);
      const run = shoot(url, photo, { fields, timeoutMs, ...extra }).then((shot) => {
        record.shot = shot;
      });
      inFlight.add(run);
      void run.finally(() => inFlight.delete(run));
      return run;
    };

    const launch = (n: number) => {
      const plan = pick(traffic, BOOTH_MIX);
      const slot = SLOTS[Math.floor(traffic() * SLOTS.length)];
      const photo = plan === 'not-image' ? kinds.notImage : pick(traffic, kinds.table);
      const clientId = `CY04N068111304S2L_soak${n}.`;
      const fields: Record<string, string> = dslrFields({ id: clientId });
      if (plan === 'wrong-password') fields.password = 'not-the-password';
      else if (plan !== 'no-password') fields.password = INGEST_PASSWORD;
      const url = `${base}/ingest/${plan === 'unknown-slot' ? 'slot-016' : slot}`;
      const extra: Partial<ShotOptions> = {};
      if (plan === 'drop-upload') extra.dropUploadAt = between(traffic, 0.1, 0.9);
      if (plan === 'drop-wait') extra.dropWaitMs = between(traffic, 500, 4000);
      const retryAfterMs =
        plan === 'drop-wait' && traffic() < 0.5 ? between(traffic, 2000, 6000) : undefined;
      const record: IngestRecord = { n, plan, slot, kind: photo.label, clientId };
      const first = send(record, photo, fields, url, extra);
      if (retryAfterMs !== undefined) {
        // The booth sends the very same shot again once its Wi-Fi is back: an exact retry.
        const retry: IngestRecord = {
          n,
          plan: 'retry',
          slot,
          kind: photo.label,
          clientId,
          sibling: record,
        };
        record.sibling = retry;
        const later = first
          .then(() => sleep(retryAfterMs))
          .then(() => send(retry, photo, fields, url, {}));
        inFlight.add(later);
        void later.finally(() => inFlight.delete(later));
      }
    };

    const recentResults = (): string[] =>
      records
        .slice(-60)
        .map((record) => record.shot?.headers?.['x-result-url'])
        .filter((url): url is string => typeof url === 'string');
    const recentJobs = (): string[] =>
      records
        .slice(-60)
        .map((record) => (record.shot ? jobIdOf(record.shot) : undefined))
        .filter((id): id is string => id !== undefined);
    const auth = { headers: { authorization: `Bearer ${token}` } };

    const adminRead = () => {
      const slot = SLOTS[Math.floor(side() * SLOTS.length)];
      const jobs = recentJobs();
      const reads: Array<[string, string, RequestInit]> = [
        [
          'GET /api/stats/overview?window_minutes=60',
          '/api/stats/overview?window_minutes=60',
          auth,
        ],
        [
          'GET /api/stats/overview?window_minutes=4320',
          '/api/stats/overview?window_minutes=4320',
          auth,
        ],
        ['GET /api/stats/global', '/api/stats/global', auth],
        ['GET /api/stats/{slot}', `/api/stats/${slot}`, auth],
        ['GET /api/slots', '/api/slots', auth],
        ['GET /api/slots/{id}', `/api/slots/${slot}`, auth],
        ['GET /api/slots/{id}/gallery', `/api/slots/${SLOTS[0]}/gallery`, auth],
        ['GET /api/audit', '/api/audit?limit=50', auth],
        ['GET /api/settings', '/api/settings', auth],
        [
          'GET /public/galleries/{token}',
          new URL(galleries[Math.floor(side() * galleries.length)]).pathname,
          { headers: { accept: 'application/json' } },
        ],
      ];
      if (jobs.length > 0) {
        reads.push([
          'GET /api/jobs/{id}',
          `/api/jobs/${jobs[Math.floor(side() * jobs.length)]}`,
          {},
        ]);
      }
      const [label, route, init] = reads[Math.floor(side() * reads.length)];
      sideTraffic.track(label, () => status(`${base}${route}`, init));
    };

    const guestDownload = () => {
      const links = recentResults();
      if (links.length === 0) return;
      const link = links[Math.floor(side() * links.length)];
      if (side() < 0.5) sideTraffic.track('GET /public/results/{id}', () => status(link));
      else sideTraffic.track('GET /public/results/{id}/preview', () => status(`${link}/preview`));
    };

    let ttl = 72;
    const settingsWrite = () => {
      ttl = ttl === 72 ? 71 : 72;
      sideTraffic.track('PUT /api/settings', async () => {
        const current = (await api(base, 'GET', '/api/settings', token)) as { version: number };
        await api(base, 'PUT', '/api/settings', token, {
          result_ttl_hours: ttl,
          version: current.version,
        });
        return true;
      });
    };

    const slotSave = () => {
      const slot = SLOTS[Math.floor(side() * SLOTS.length)];
      sideTraffic.track('PUT /api/slots/{id}', async () => {
        const current = (await api(base, 'GET', `/api/slots/${slot}`, token)) as Record<
          string,
          unknown
        >;
        await api(base, 'PUT', `/api/slots/${slot}`, token, {
          display_name: current.display_name,
          provider: current.provider,
          operation: current.operation,
          is_active: current.is_active,
          settings: current.settings,
          template_media: [],
          version: current.version,
        });
        return true;
      });
    };

    const minuteLine = async () => {
      const elapsed = Date.now() - startedAt;
      const window = samples.filter((sample) => sample.at > elapsed - 60_000);
      const last = samples.at(-1);
      const outcomes = new Map<string, number>();
      for (const record of records) {
        const key = record.shot
          ? record.shot.dropped
            ? 'drop'
            : String(record.shot.status)
          : 'open';
        outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
      }
      let jobs = '?';
      try {
        jobs = tallyText(Object.entries(await jobsByStatus(db!)));
      } catch (error) {
        jobs = `(query failed: ${error instanceof Error ? error.message : String(error)})`;
      }
      const loopP99 = Math.max(...window.map((sample) => sample.loopP99).filter(Number.isFinite));
      console.log(
        `[${clock(elapsed)}] shots ${records.length} ${tallyText(outcomes)} | ` +
          `RSS ${mb(last?.rss ?? NaN)} MB heap ${mb(last?.heapUsed ?? NaN)} MB ` +
          `loop p99 ${Number.isFinite(loopP99) ? loopP99.toFixed(1) : '–'} ms | ` +
          `jobs ${jobs} | tmp ${countFiles(path.join(mediaRoot, 'tmp'))} | ` +
          `side ${sideTraffic.total} (${sideTraffic.failed} failed) | load ${load()}`,
      );
    };

    const intervals = [
      setInterval(() => {
        void sampleServer(server!, startedAt).then((sample) => samples.push(sample));
      }, SAMPLE_MS),
      setInterval(adminRead, 2_000),
      setInterval(guestDownload, 1_000),
      setInterval(settingsWrite, 60_000),
      setInterval(slotSave, 90_000),
      setInterval(() => void minuteLine(), 60_000),
    ];
    samples.push(await sampleServer(server, startedAt));

    const total = Math.round((trafficMs / 1000) * options.rate);
    const interval = 1000 / options.rate;
    for (let n = 0; n < total; n++) {
      const due = startedAt + n * interval;
      if (due > Date.now()) await sleep(due - Date.now());
      launch(n);
    }
    await sleep(Math.max(0, startedAt + trafficMs - Date.now()));
    const trafficStoppedAt = Date.now();
    for (const timer of intervals) clearInterval(timer);
    samples.push(await sampleServer(server, startedAt));
    console.log(
      `traffic stopped after ${clock(trafficStoppedAt - startedAt)}; waiting for answers`,
    );

    // ----- settle
    while (inFlight.size > 0) await Promise.all([...inFlight]);
    await sideTraffic.drain();
    let active = -1;
    for (;;) {
      const counts = await jobsByStatus(db);
      active = (counts.pending ?? 0) + (counts.processing ?? 0);
      if (active === 0 || Date.now() > trafficStoppedAt + SETTLE_MS) break;
      await sleep(1_000);
    }
    const settledAfter = Date.now() - trafficStoppedAt;
    await minuteLine();
    const tmpFiles = countFiles(path.join(mediaRoot, 'tmp'));

    // ----- verdicts
    const { rows } = await db.query<JobRow>(
      `SELECT id, slot_id, status, failure_reason, client_fields->>'id' AS client_id, source,
              result_checksum, result_size_bytes, result_path
         FROM job`,
    );
    const answerProblems = checkAnswers(records, rows);
    const folderProblems = checkResultFolders(mediaRoot, rows);
    const downloads = await checkDownloads(records);

    const outcomes = new Map<string, number>();
    for (const record of records) {
      const key = record.plan === 'retry' ? `retry → ${outcomeKey(record)}` : outcomeKey(record);
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    }
    const plans = new Map<string, number>();
    for (const record of records) plans.set(record.plan, (plans.get(record.plan) ?? 0) + 1);
    const dropWaits = records.filter((record) => record.shot?.dropped === 'wait');
    const byClient = new Map<string, JobRow[]>();
    for (const row of rows) {
      if (row.client_id) byClient.set(row.client_id, [...(byClient.get(row.client_id) ?? []), row]);
    }
    const dropWaitJobs = dropWaits.flatMap((record) =>
      (byClient.get(record.clientId) ?? []).slice(0, 1),
    );
    const ms200 = records
      .filter((record) => record.shot?.status === 200)
      .map((record) => record.shot!.ms);

    const rss = thirds(samples, trafficMs, (sample) => sample.rss);
    const heap = thirds(samples, trafficMs, (sample) => sample.heapUsed);
    const growth = (values: number[]) => values[2] / values[1] - 1;
    const rssGrowth = growth(rss);
    const heapGrowth = growth(heap);
    const peakRss = Math.max(...samples.map((sample) => sample.rss).filter(Number.isFinite));
    const loopP99s = samples.map((sample) => sample.loopP99).filter(Number.isFinite);

    const noLoss =
      answerProblems.length === 0 &&
      folderProblems.length === 0 &&
      downloads.problems.length === 0 &&
      active === 0 &&
      tmpFiles === 0;
    const flat = rssGrowth <= MEMORY_TOLERANCE && heapGrowth <= MEMORY_TOLERANCE;
    const sideOk = sideTraffic.failed === 0;
    const mark = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
    const pct = (value: number) => `${value >= 0 ? '+' : ''}${(value * 100).toFixed(1)} %`;

    console.log(
      `\n# Soak — ${options.minutes} min at ${options.rate} ingests/s, seed ${options.seed}`,
    );
    console.log(`shots sent ${records.length}: ${tallyText(plans)}`);
    console.log(`answers: ${tallyText(outcomes)}`);
    console.log(`provider calls: ${tallyText(providerTally)}`);
    console.log(`jobs in the database: ${tallyText(Object.entries(await jobsByStatus(db)))}`);
    console.log(
      `200 end-to-end p50 ${(percentile(ms200, 0.5) / 1000).toFixed(1)} s, p95 ${(percentile(ms200, 0.95) / 1000).toFixed(1)} s`,
    );
    console.log(
      `guests and admin: ${sideTraffic.total} requests, ${sideTraffic.failed} failed — ` +
        [...sideTraffic.counts]
          .map(([label, c]) => `${label} ${c.ok}/${c.ok + c.failed}`)
          .join(', '),
    );
    console.log(`server log: ${logSummary(serverLog)}`);
    console.log(`\n(a) zero lost jobs: ${mark(noLoss)}`);
    console.log(
      `    every shot answered or dropped by the booth, each answer matching its job row: ` +
        `${mark(answerProblems.length === 0)} (${answerProblems.length} problems)`,
    );
    console.log(
      `    shots dropped mid-wait: ${dropWaits.length}, of which ${dropWaitJobs.length} became jobs, ` +
        `${dropWaitJobs.filter((row) => row.status === 'completed').length} completed`,
    );
    console.log(
      `    no job pending/processing ${SETTLE_MS / 1000} s after the traffic stopped: ${mark(active === 0)} ` +
        `(${active} left; all final ${(settledAfter / 1000).toFixed(1)} s after)`,
    );
    console.log(`    no file left in MEDIA_ROOT/tmp: ${mark(tmpFiles === 0)} (${tmpFiles})`);
    console.log(
      `    result folders for completed jobs only, each with its file: ${mark(folderProblems.length === 0)}`,
    );
    console.log(
      `    every 200's result link gives the answer's bytes: ${mark(downloads.problems.length === 0)} ` +
        `(${downloads.checked - downloads.problems.length}/${downloads.checked})`,
    );
    for (const problem of [...answerProblems, ...folderProblems, ...downloads.problems].slice(
      0,
      30,
    )) {
      console.log(`      - ${problem}`);
    }
    console.log(
      `(b) flat memory (last third vs second third ≤ +${MEMORY_TOLERANCE * 100} %): ${mark(flat)}`,
    );
    console.log(
      `    RSS median ${rss.map(mb).join(' → ')} MB (thirds): ${pct(rssGrowth)}; peak ${mb(peakRss)} MB`,
    );
    console.log(`    heap used median ${heap.map(mb).join(' → ')} MB (thirds): ${pct(heapGrowth)}`);
    console.log(
      `    event-loop p99 over ${SAMPLE_MS / 1000} s windows: median ${median(loopP99s).toFixed(1)} ms, ` +
        `worst ${Math.max(...loopP99s).toFixed(1)} ms`,
    );
    console.log(`(c) guests' and admin's requests all answered 2xx: ${mark(sideOk)}`);
    for (const failure of sideTraffic.failures) console.log(`      - ${failure}`);
    passed = noLoss && flat && sideOk;
    console.log(`\nSOAK ${mark(passed)}; load average ${load()}`);
  } catch (error) {
    if (server) console.error(`server output (tail):\n${server.child.tail.join('')}`);
    throw error;
  } finally {
    await db?.end().catch(() => undefined);
    const exit = server
      ? await server.child.stop('SIGTERM', 90_000).then(() => server!.child.exited)
      : null;
    if (server) console.log(`server stopped (exit code ${exit})`);
    await gemini?.close();
    clearTimeout(watchdog);
    if (passed && !options.keep) rmSync(workDir, { recursive: true, force: true });
    else console.log(`kept ${workDir} (server log: ${serverLog})`);
  }
  return passed ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
