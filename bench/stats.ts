/**
 * Latency of the statistics queries on 1 000 000 jobs (30 days, 15 slots).
 *
 * Usage: npm run bench:stats [-- --jobs N] [--runs N] [--explain] [--no-vacuum]
 *
 * Starts an embedded PostgreSQL in a temp folder, applies the migrations, generates the jobs in
 * SQL, runs VACUUM ANALYZE (autovacuum does the same in production; index-only scans need the
 * visibility map it sets; --no-vacuum only analyses, the state right after a burst of jobs),
 * then times the service calls the API makes, each query alone, and what the `job_count`
 * trigger adds to a one-row insert like ingest's.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { DataSource } from 'typeorm';
import { Clock } from '../src/common/clock';
import { openDataSource } from '../src/database/data-source';
import { EmbeddedPostgres } from '../src/database/embedded-postgres';
import { StatsRepository } from '../src/stats/stats.repository';
import { StatsService, windowRange } from '../src/stats/stats.service';

const DAY_MS = 86_400_000;
const CHUNK = 100_000;

interface Options {
  jobs: number;
  runs: number;
  explain: boolean;
  vacuum: boolean;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { jobs: 1_000_000, runs: 50, explain: false, vacuum: true };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--jobs') options.jobs = Number(argv[++i]);
    else if (arg === '--runs') options.runs = Number(argv[++i]);
    else if (arg === '--explain') options.explain = true;
    else if (arg === '--no-vacuum') options.vacuum = false;
    else throw new Error(`unknown argument ${arg}`);
  }
  if (!Number.isInteger(options.jobs) || options.jobs < 1) throw new Error('--jobs: a count');
  if (!Number.isInteger(options.runs) || options.runs < 1) throw new Error('--runs: a count');
  return options;
}

class FixedClock extends Clock {
  constructor(private readonly at: Date) {
    super();
  }

  override now(): Date {
    return new Date(this.at);
  }
}

/**
 * Jobs spread evenly over the 30 days before `now`, round-robin over the slots. About 2 % are
 * test-runs; statuses follow a plausible mix; results older than 72 h are deleted, as cleanup
 * leaves them; the last minute holds a few jobs still running.
 */
async function seed(db: DataSource, now: Date, total: number): Promise<void> {
  for (let first = 1; first <= total; first += CHUNK) {
    const last = Math.min(total, first + CHUNK - 1);
    await db.query(
      `INSERT INTO job (id, slot_id, source, status, failure_reason, provider, operation,
                        started_at, deadline_at, finished_at, duration_ms, result_path,
                        result_mime_type, result_size_bytes, result_expires_at, result_deleted_at)
       SELECT gen_random_uuid(), slot_id, source, status,
              CASE status WHEN 'failed_timeout' THEN 'timeout'
                          WHEN 'failed_provider' THEN 'provider_error'
                          WHEN 'failed_internal' THEN 'internal'
                          WHEN 'cancelled' THEN 'cancelled' END,
              'gemini', 'image_edit', started_at, started_at + interval '48 seconds',
              CASE WHEN status IN ('pending', 'processing') THEN NULL
                   ELSE started_at + duration_ms * interval '1 millisecond' END,
              CASE WHEN status IN ('pending', 'processing') THEN NULL ELSE duration_ms END,
              CASE WHEN status = 'completed' THEN 'results/' || slot_id || '/x/payload.jpg' END,
              CASE WHEN status = 'completed' THEN 'image/jpeg' END,
              CASE WHEN status = 'completed' THEN 200000 + (n * 7919) % 3000000 END,
              CASE WHEN status = 'completed'
                   THEN started_at + duration_ms * interval '1 millisecond' + interval '72 hours' END,
              CASE WHEN status = 'completed'
                        AND started_at + duration_ms * interval '1 millisecond' + interval '72 hours' < $1
                   THEN started_at + interval '72 hours 15 minutes' END
       FROM (
         SELECT n,
                format('slot-%s', lpad((n % 15 + 1)::text, 3, '0')) AS slot_id,
                CASE WHEN n % 50 = 0 THEN 'ui_test' ELSE 'ingest' END AS source,
                started_at,
                CASE WHEN started_at > $1 - interval '1 minute' AND n % 7 = 0 THEN 'processing'
                     WHEN n % 100 < 85 THEN 'completed'
                     WHEN n % 100 < 91 THEN 'failed_timeout'
                     WHEN n % 100 < 96 THEN 'failed_provider'
                     WHEN n % 100 < 99 THEN 'failed_internal'
                     ELSE 'cancelled' END AS status,
                4000 + (n * 104729) % 40000 AS duration_ms
         FROM (
           SELECT n, $1::timestamptz - ($3::bigint - n) * ($4::float8 / $3) * interval '1 millisecond' AS started_at
           FROM generate_series($2::bigint, $5::bigint) AS n
         ) t
       ) g`,
      [now, first, total, 30 * DAY_MS, last],
    );
    process.stdout.write(`\rinserted ${last.toLocaleString('en')} jobs`);
  }
  process.stdout.write('\n');
}

async function time(runs: number, task: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < 5; i++) await task();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await task();
    samples.push(performance.now() - start);
  }
  return samples.sort((a, b) => a - b);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? NaN;
}

function report(label: string, samples: number[]): void {
  const p50 = percentile(samples, 0.5).toFixed(1);
  const p95 = percentile(samples, 0.95).toFixed(1);
  console.log(`${label.padEnd(44)} p50 ${p50.padStart(7)} ms   p95 ${p95.padStart(7)} ms`);
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const dataDir = mkdtempSync(path.join(tmpdir(), 'photochanger-bench-'));
  let server: EmbeddedPostgres | undefined;
  let db: DataSource | undefined;
  try {
    server = await EmbeddedPostgres.start(dataDir, (message) => console.log(message));
    db = await openDataSource(server.url);
    const now = new Date();

    // Kept from vacuuming behind the bench's back, so --no-vacuum measures what it says.
    if (!options.vacuum) await db.query('ALTER TABLE job SET (autovacuum_enabled = false)');
    const seeding = performance.now();
    await seed(db, now, options.jobs);
    await db.query(options.vacuum ? 'VACUUM ANALYZE job' : 'ANALYZE job');
    console.log(`seeded and analysed in ${((performance.now() - seeding) / 1000).toFixed(1)} s`);
    const [size] = await db.query<Array<{ table: string; indexes: string }>>(
      `SELECT pg_size_pretty(pg_table_size('job')) AS table,
              pg_size_pretty(pg_indexes_size('job')) AS indexes`,
    );
    console.log(`job table ${size?.table}, its indexes ${size?.indexes}`);

    const repository = new StatsRepository(db);
    const service = new StatsService(repository, new FixedClock(now));
    console.log(`\n${options.runs} runs each after 5 warm-up runs\n`);
    for (const minutes of [60, 4320]) {
      const range = windowRange(now, minutes);
      report(
        `overview window=${minutes}`,
        await time(options.runs, () => service.overview(minutes)),
      );
      report(
        `  window: counts by slot and bucket, p95`,
        await time(options.runs, () => repository.window(range)),
      );
      report(`global window=${minutes}`, await time(options.runs, () => service.system(minutes)));
      report(
        `slot-007 window=${minutes}`,
        await time(options.runs, () => service.slot('slot-007', minutes)),
      );
      if (options.explain) {
        await explain(db, `window ${minutes}`, (r) => r.window(range));
        await explain(db, `slot-007 window ${minutes}`, (r) => r.window(range, 'slot-007'));
      }
    }
    report(
      '  slots: last success / last error',
      await time(options.runs, () => repository.slots()),
    );
    report(
      '  totals: jobs_total, in flight, storage',
      await time(options.runs, () => repository.totals(now)),
    );

    const sample = await service.overview(60);
    console.log(`\noverview(60).system: ${JSON.stringify(sample.system)}\n`);
    await insertCost(db, now, options.runs);
    if (options.explain) {
      await explain(db, 'slots', (r) => r.slots());
      await explain(db, 'totals', (r) => r.totals(now));
    }
  } finally {
    await db?.destroy();
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** One-row job inserts, each in its own transaction as ingest does, with and without the trigger. */
async function insertCost(db: DataSource, now: Date, runs: number): Promise<void> {
  const insert = () =>
    db.query(
      `INSERT INTO job (id, slot_id, source, status, started_at, deadline_at)
       VALUES (gen_random_uuid(), 'slot-001', 'ingest', 'pending', $1, $1::timestamptz + interval '48 seconds')`,
      [now],
    );
  report('one-row job insert', await time(runs * 4, insert));
  await db.query('ALTER TABLE job DISABLE TRIGGER job_count_added');
  report('  the same without the job_count trigger', await time(runs * 4, insert));
  await db.query('ALTER TABLE job ENABLE TRIGGER job_count_added');
}

/**
 * Runs the repository against a data source that EXPLAINs each query instead of answering it,
 * so the plans shown are those of the exact SQL the API sends.
 */
async function explain(
  db: DataSource,
  label: string,
  task: (r: StatsRepository) => Promise<unknown>,
) {
  const plans: string[] = [];
  const explaining = {
    query: async (text: string, params?: unknown[]) => {
      const plan = await db.query<Array<{ 'QUERY PLAN': string }>>(
        `EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${text}`,
        params,
      );
      plans.push(plan.map((line) => line['QUERY PLAN']).join('\n'));
      return [];
    },
  } as unknown as DataSource;
  await task(new StatsRepository(explaining));
  console.log(`\n--- ${label} ---\n${plans.join('\n\n')}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
