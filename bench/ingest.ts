/**
 * What PhotoChanger adds to a booth's wait, and how it holds under load (issue 7).
 *
 * Usage: npm run bench [-- --quick] [--latency MS] [--runs N] [--stages LIST] [--no-build]
 *                      [--cpu-prof DIR]
 *
 * Builds the server (`npm run build:server`) and starts it as production does (`node
 * dist/src/main.js`, embedded PostgreSQL in a temp DATA_DIR), a fake Gemini in this process that
 * echoes the photo it gets after a fixed latency, and a bare reference server (bench/
 * reference-server.ts, its own process) doing only the unavoidable work. The photos are generated
 * here. Every comparison is interleaved: ours, then the reference (or the other way round) on the
 * same photo, so both see the same machine at the same moment.
 *
 * Overhead = end-to-end time at the booth − the provider's configured latency.
 *
 * Stages (--stages kinds,sizes,load,concurrency,download): per photo kind; by file size; 200
 * concurrent ingests over the 15 slots against a 5 s provider (peak RSS, event-loop delay); by
 * concurrency; public result download next to a bare static handler.
 * --cpu-prof DIR runs the server with `--cpu-prof`; the profile is written when it stops.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { writeAdminPasswords } from '../src/auth/credentials-file';
import { FakeGemini, GeminiReply } from '../test/fakes/fake-gemini';
import { configure } from './support/admin';
import { mustPost, post } from './support/booth';
import {
  eventLoopP99,
  fmt,
  MB,
  mb,
  out,
  percentile,
  procStatus,
  row,
  seconds,
  verdict,
} from './support/figures';
import { jpegPhoto, Photo, pngPhoto } from './support/photos';
import { ADMIN_PASSWORD, Child, freePort, ROOT, SLOTS, startServer } from './support/server';

const STAGES = ['kinds', 'sizes', 'load', 'concurrency', 'download'] as const;
type Stage = (typeof STAGES)[number];
// The whole run stops by itself, whatever hangs.
const WATCHDOG_MS = 25 * 60_000;

interface Options {
  quick: boolean;
  latencyMs: number;
  loadLatencyMs: number;
  runs: number;
  stages: Set<Stage>;
  build: boolean;
  cpuProfDir: string | undefined;
}

function parseArgs(argv: string[]): Options {
  const options: Options = {
    quick: false,
    latencyMs: 500,
    loadLatencyMs: 5000,
    runs: 0,
    stages: new Set(STAGES),
    build: true,
    cpuProfDir: undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--quick') options.quick = true;
    else if (arg === '--latency') options.latencyMs = Number(argv[++i]);
    else if (arg === '--runs') options.runs = Number(argv[++i]);
    else if (arg === '--no-build') options.build = false;
    else if (arg === '--cpu-prof') options.cpuProfDir = path.resolve(argv[++i] ?? '');
    else if (arg === '--stages') {
      const list = (argv[++i] ?? '').split(',');
      for (const stage of list) {
        if (!(STAGES as readonly string[]).includes(stage))
          throw new Error(`unknown stage ${stage}`);
      }
      options.stages = new Set(list as Stage[]);
    } else throw new Error(`unknown argument ${arg}`);
  }
  if (!Number.isInteger(options.latencyMs) || options.latencyMs < 0) {
    throw new Error('--latency: milliseconds');
  }
  if (!Number.isInteger(options.runs) || options.runs < 0) throw new Error('--runs: a count');
  if (options.runs === 0) options.runs = options.quick ? 6 : 30;
  return options;
}

// ---------------------------------------------------------------------------------------------
// Photos

interface Photos {
  mp24: Photo;
  mp12: Photo;
  png2: Photo;
  sizes: Photo[];
  result2mb: Buffer;
}

async function makePhotos(): Promise<Photos> {
  const started = performance.now();
  // Portrait shots from a camera held upright carry EXIF orientation 6: the 12 MP one does.
  const mp24 = await jpegPhoto('24 MP JPEG', 6000, 4000, 14, 92);
  const mp12 = await jpegPhoto('12 MP JPEG', 4000, 3000, 14, 92, 6);
  const png2 = await pngPhoto('2 MP PNG+alpha', 1732, 1155);
  const sizes = [
    await jpegPhoto('~1 MB JPEG', 2400, 1600, 8, 90),
    await jpegPhoto('~5 MB JPEG', 4000, 3000, 12, 92),
    mp24,
    await jpegPhoto('~15 MB JPEG', 6000, 4000, 24, 92),
  ];
  const bySize = sizes.map((photo) => ({ ...photo, label: `${mb(photo.bytes.length)} MB JPEG` }));
  const result2mb = (await jpegPhoto('result', 2048, 1536, 30, 95)).bytes;
  console.log(
    `photos generated in ${seconds(performance.now() - started)} s: ` +
      [mp24, mp12, png2].map((photo) => `${photo.label} ${mb(photo.bytes.length)} MB`).join(', ') +
      `; sizes ${bySize.map((photo) => mb(photo.bytes.length)).join('/')} MB` +
      `; result ${mb(result2mb.length)} MB`,
  );
  return { mp24, mp12, png2, sizes: bySize, result2mb };
}

// ---------------------------------------------------------------------------------------------
// Processes

async function startReference(providerUrl: string, staticFile: string, tmpDir: string) {
  const port = await freePort();
  const child = new Child(
    spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', 'bench/reference-server.ts'],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          PORT: String(port),
          PROVIDER_URL: providerUrl,
          REFERENCE_STATIC_FILE: staticFile,
          TMP_DIR: tmpDir,
        },
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      },
    ),
  );
  await new Promise<void>((resolve, reject) => {
    child.process.once('message', () => resolve());
    child.process.once('exit', (code) =>
      reject(new Error(`reference exited (${code}): ${child.tail.join('')}`)),
    );
  });
  return { child, url: `http://127.0.0.1:${port}` };
}

// ---------------------------------------------------------------------------------------------
// Stages

interface Context {
  options: Options;
  photos: Photos;
  gemini: FakeGemini;
  server: { child: Child; url: string };
  reference: { child: Child; url: string };
}

function ours(context: Context, index = 0): string {
  return `${context.server.url}/ingest/${SLOTS[index % SLOTS.length]}`;
}

function setLatency(context: Context, ms: number): void {
  context.gemini.reset().respondWith(GeminiReply.delay(ms, GeminiReply.echoPhoto()));
}

/** Sequential pairs, the order alternating, so drift and warm caches favour neither side. */
async function interleaved(
  context: Context,
  photo: Photo,
  runs: number,
  warmup: number,
): Promise<{ ours: number[]; reference: number[]; sent: number[]; sentBody: number[] }> {
  const result = {
    ours: [] as number[],
    reference: [] as number[],
    sent: [] as number[],
    sentBody: [] as number[],
  };
  const latency = context.options.latencyMs;
  for (let i = 0; i < warmup + runs; i++) {
    const measureOurs = async () => {
      context.gemini.requests.length = 0;
      const outcome = await mustPost(ours(context, i), photo);
      const request = context.gemini.lastRequest;
      if (i >= warmup) {
        result.ours.push(outcome.ms - latency);
        result.sent.push(request?.photo?.bytes.length ?? NaN);
        result.sentBody.push(request?.rawBody.length ?? NaN);
      }
    };
    const measureReference = async () => {
      const outcome = await mustPost(`${context.reference.url}/ingest`, photo);
      if (i >= warmup) result.reference.push(outcome.ms - latency);
    };
    if (i % 2 === 0) {
      await measureOurs();
      await measureReference();
    } else {
      await measureReference();
      await measureOurs();
    }
  }
  context.gemini.requests.length = 0;
  return result;
}

async function stageKinds(context: Context): Promise<void> {
  const { options, photos } = context;
  setLatency(context, options.latencyMs);
  const widths = [16, 7, 7, 7, 8, 8, 8, 11, 11, 7, 6];
  out(
    `\n## Overhead per ingest (end-to-end − ${options.latencyMs} ms provider), ${options.runs} interleaved runs each, ms`,
  );
  out(
    row(
      [
        'photo',
        'ours50',
        'ours95',
        'ours99',
        'ref50',
        'ref95',
        'ref99',
        'e2e95 ours',
        'e2e95 ref',
        'ratio',
        '',
      ],
      widths,
    ),
  );
  const payload: string[] = [];
  for (const photo of [photos.mp24, photos.mp12, photos.png2]) {
    const r = await interleaved(context, photo, options.runs, 3);
    const e2eOurs = percentile(r.ours, 0.95) + options.latencyMs;
    const e2eRef = percentile(r.reference, 0.95) + options.latencyMs;
    const ratio = e2eOurs / e2eRef;
    out(
      row(
        [
          photo.label,
          fmt(percentile(r.ours, 0.5)),
          fmt(percentile(r.ours, 0.95)),
          fmt(percentile(r.ours, 0.99)),
          fmt(percentile(r.reference, 0.5)),
          fmt(percentile(r.reference, 0.95)),
          fmt(percentile(r.reference, 0.99)),
          fmt(e2eOurs),
          fmt(e2eRef),
          ratio.toFixed(2),
          `${verdict(ratio <= 1.25)} (≤ 1.25)`,
        ],
        widths,
      ),
    );
    const sent = percentile(r.sent, 0.5);
    const share = sent / photo.bytes.length;
    payload.push(
      row(
        [
          photo.label,
          mb(photo.bytes.length),
          mb(sent),
          mb(percentile(r.sentBody, 0.5)),
          `1/${(1 / share).toFixed(1)}`,
          photo === photos.mp24 ? `${verdict(share <= 1 / 8)} (≤ 1/8)` : '',
        ],
        [16, 9, 9, 11, 8, 12],
      ),
    );
  }
  out('\n## Bytes sent to the provider per photo (MB)');
  out(row(['photo', 'input', 'photo', 'JSON body', 'share', ''], [16, 9, 9, 11, 8, 12]));
  for (const line of payload) out(line);
}

async function stageSizes(context: Context): Promise<void> {
  const { options, photos } = context;
  setLatency(context, options.latencyMs);
  const runs = Math.max(3, Math.round(options.runs / 3));
  const widths = [16, 8, 8, 8, 8, 7];
  out(`\n## Overhead by file size, ${runs} interleaved runs each, ms`);
  out(row(['input', 'ours50', 'ours95', 'ref50', 'ref95', 'ratio50'], widths));
  for (const photo of photos.sizes) {
    const r = await interleaved(context, photo, runs, 1);
    const o50 = percentile(r.ours, 0.5);
    const r50 = percentile(r.reference, 0.5);
    out(
      row(
        [
          photo.label,
          fmt(o50),
          fmt(percentile(r.ours, 0.95)),
          fmt(r50),
          fmt(percentile(r.reference, 0.95)),
          ((o50 + options.latencyMs) / (r50 + options.latencyMs)).toFixed(2),
        ],
        widths,
      ),
    );
  }
}

async function burst(
  count: number,
  target: (index: number) => string,
  photo: Photo,
): Promise<{ ms: number[]; ok: number; statuses: Record<string, number> }> {
  const outcomes = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      post(target(i), photo).catch(() => ({ status: 0, ms: NaN, bytes: 0, resultUrl: undefined })),
    ),
  );
  const statuses: Record<string, number> = {};
  for (const outcome of outcomes) statuses[outcome.status] = (statuses[outcome.status] ?? 0) + 1;
  const ok = outcomes.filter((outcome) => outcome.status === 200);
  return { ms: ok.map((outcome) => outcome.ms), ok: ok.length, statuses };
}

async function stageLoad(context: Context): Promise<void> {
  const { options, photos, server } = context;
  const count = 200;
  const photo = photos.mp12;
  setLatency(context, options.loadLatencyMs);
  await eventLoopP99(server.url); // a scrape resets prom-client's event-loop histogram
  let peakRss = procStatus(server.child.pid, 'VmRSS');
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, procStatus(server.child.pid, 'VmRSS'));
  }, 50);
  const started = performance.now();
  const result = await burst(count, (i) => ours(context, i), photo);
  const wall = performance.now() - started;
  clearInterval(sampler);
  const loop = await eventLoopP99(server.url);
  const hwm = procStatus(server.child.pid, 'VmHWM');
  context.gemini.requests.length = 0;
  const p95 = percentile(result.ms, 0.95);
  out(
    `\n## ${count} concurrent ingests (${photo.label} ${mb(photo.bytes.length)} MB) over ${SLOTS.length} slots, provider ${options.loadLatencyMs} ms`,
  );
  out(
    `succeeded            ${String(result.ok).padStart(8)} / ${count}   ${verdict(result.ok === count)} (all)   statuses ${JSON.stringify(result.statuses)}`,
  );
  out(`end-to-end p50       ${fmt(percentile(result.ms, 0.5)).padStart(8)} ms`);
  out(`end-to-end p95       ${fmt(p95).padStart(8)} ms   (burst done in ${seconds(wall)} s)`);
  out(
    `peak RSS (sampled)   ${mb(peakRss).padStart(8)} MB   ${verdict(peakRss <= 600 * 1e6)} (≤ 600 MB); VmHWM since start ${mb(hwm)} MB`,
  );
  out(
    `event-loop delay p99 ${loop.p99.toFixed(1).padStart(8)} ms   ${verdict(loop.p99 <= 50)} (≤ 50 ms); max ${loop.max.toFixed(1)} ms`,
  );
}

async function stageConcurrency(context: Context): Promise<void> {
  const { options, photos } = context;
  const photo = photos.mp12;
  setLatency(context, options.latencyMs);
  const levels = options.quick ? [1, 10, 50] : [1, 10, 50, 200];
  const widths = [6, 6, 8, 8, 8, 8, 8, 8, 9, 9];
  out(
    `\n## Overhead by concurrency (${photo.label}, provider ${options.latencyMs} ms), ours and the reference by turns, ms`,
  );
  out(
    row(
      [
        'conc.',
        'rounds',
        'ours50',
        'ours95',
        'ref50',
        'ref95',
        'ratio95',
        'ok',
        'RSS ours',
        'RSS ref',
      ],
      widths,
    ),
  );
  for (const level of levels) {
    const rounds = level === 1 ? Math.max(5, Math.round(options.runs / 3)) : level <= 10 ? 3 : 1;
    const o: number[] = [];
    const r: number[] = [];
    let ok = 0;
    const rss = { ours: 0, reference: 0 };
    const sampler = setInterval(() => {
      rss.ours = Math.max(rss.ours, procStatus(context.server.child.pid, 'VmRSS'));
      rss.reference = Math.max(rss.reference, procStatus(context.reference.child.pid, 'VmRSS'));
    }, 50);
    for (let round = 0; round < rounds; round++) {
      const a = await burst(level, (i) => ours(context, i), photo);
      context.gemini.requests.length = 0;
      const b = await burst(level, () => `${context.reference.url}/ingest`, photo);
      context.gemini.requests.length = 0;
      o.push(...a.ms.map((ms) => ms - options.latencyMs));
      r.push(...b.ms.map((ms) => ms - options.latencyMs));
      ok += a.ok;
    }
    clearInterval(sampler);
    const o95 = percentile(o, 0.95);
    const r95 = percentile(r, 0.95);
    out(
      row(
        [
          level,
          rounds,
          fmt(percentile(o, 0.5)),
          fmt(o95),
          fmt(percentile(r, 0.5)),
          fmt(r95),
          ((o95 + options.latencyMs) / (r95 + options.latencyMs)).toFixed(2),
          `${ok}/${level * rounds}`,
          mb(rss.ours),
          mb(rss.reference),
        ],
        widths,
      ),
    );
  }
}

async function download(url: string, total: number, concurrency: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  let next = 0;
  let bytes = 0;
  let failed = 0;
  const one = () =>
    new Promise<void>((resolve, reject) => {
      httpRequest(url, { agent }, (response) => {
        if (response.statusCode !== 200) failed++;
        response.on('data', (chunk: Buffer) => (bytes += chunk.length));
        response.on('end', resolve);
        response.on('error', reject);
      })
        .on('error', reject)
        .end();
    });
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next++;
        await one();
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  if (failed > 0) throw new Error(`${url}: ${failed} downloads failed`);
  return { rps: total / elapsed, mbps: bytes / MB / elapsed };
}

async function stageDownload(context: Context, staticFile: string): Promise<void> {
  const { options, photos, gemini } = context;
  gemini.reset().respondWith(GeminiReply.delay(options.latencyMs, GeminiReply.echoPhoto()));
  gemini.enqueue(GeminiReply.image(photos.result2mb, 'image/jpeg'));
  const ingest = await mustPost(ours(context), photos.mp24);
  gemini.requests.length = 0;
  if (!ingest.resultUrl || ingest.bytes !== photos.result2mb.length) {
    throw new Error('the download stage expected the 2 MB result to be stored as is');
  }
  writeFileSync(staticFile, photos.result2mb);
  const total = options.quick ? 200 : 500;
  const concurrency = 20;
  const targets = { ours: ingest.resultUrl, reference: `${context.reference.url}/static` };
  for (const url of Object.values(targets)) await download(url, 40, concurrency);
  const best = { ours: { rps: 0, mbps: 0 }, reference: { rps: 0, mbps: 0 } };
  for (let round = 0; round < 3; round++) {
    for (const side of round % 2 === 0
      ? (['ours', 'reference'] as const)
      : (['reference', 'ours'] as const)) {
      const figures = await download(targets[side], total, concurrency);
      if (figures.rps > best[side].rps) best[side] = figures;
    }
  }
  const share = best.ours.rps / best.reference.rps;
  out(
    `\n## Public result download (${mb(photos.result2mb.length)} MB, ${total} requests at concurrency ${concurrency}, best of 3 interleaved)`,
  );
  out(
    `ours           ${best.ours.rps.toFixed(0).padStart(6)} req/s  ${best.ours.mbps.toFixed(0).padStart(6)} MB/s`,
  );
  out(
    `bare static    ${best.reference.rps.toFixed(0).padStart(6)} req/s  ${best.reference.mbps.toFixed(0).padStart(6)} MB/s`,
  );
  out(
    `ours / bare    ${(share * 100).toFixed(0).padStart(5)} %   ${verdict(share >= 0.7)} (≥ 70 %)`,
  );
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const watchdog = setTimeout(() => {
    console.error(`bench: still running after ${WATCHDOG_MS / 60_000} min, giving up`);
    process.exit(2);
  }, WATCHDOG_MS);
  watchdog.unref();

  const load = loadavg().map((value) => value.toFixed(2));
  console.log(`load average ${load.join(' ')} on ${availableParallelism()} cores`);
  if (options.build) execFileSync('npm', ['run', 'build:server'], { cwd: ROOT, stdio: 'inherit' });

  const workDir = mkdtempSync(path.join(tmpdir(), 'photochanger-bench-ingest-'));
  const dataDir = path.join(workDir, 'data');
  const refTmp = path.join(workDir, 'reference');
  mkdirSync(refTmp, { recursive: true });
  // The embedded PostgreSQL runs as its own user when we are root: it must reach DATA_DIR.
  chmodSync(workDir, 0o755);
  if (options.cpuProfDir) mkdirSync(options.cpuProfDir, { recursive: true });
  const staticFile = path.join(workDir, 'result.jpg');
  let gemini: FakeGemini | undefined;
  let server: { child: Child; url: string; allocator: string } | undefined;
  let reference: { child: Child; url: string } | undefined;
  try {
    const photos = await makePhotos();
    await writeAdminPasswords(path.join(dataDir, 'secrets', 'runtime_credentials.json'), {
      serg: ADMIN_PASSWORD,
    });
    gemini = await FakeGemini.start();
    server = await startServer(dataDir, gemini.baseUrl, options);
    // 200 concurrent ingests over 15 slots: at most 14 per slot, all at the provider at once.
    await configure(server.url, {
      slot_concurrency: 20,
      provider_concurrency: { gemini: 200 },
      sync_response_seconds: 60,
    });
    writeFileSync(staticFile, photos.result2mb);
    reference = await startReference(gemini.baseUrl, staticFile, refTmp);
    const context: Context = { options, photos, gemini, server, reference };

    out(
      `\n# Ingest benchmark — ${new Date().toISOString()}, load average before ${load.join(' ')}`,
    );
    out(
      `server: node dist/src/main.js (pid ${server.child.pid}, ${server.allocator}), embedded PostgreSQL; ` +
        `reference: bench/reference-server.ts; fake Gemini echoes the normalised photo`,
    );
    const started = performance.now();
    if (options.stages.has('kinds')) await stageKinds(context);
    if (options.stages.has('sizes')) await stageSizes(context);
    if (options.stages.has('load')) await stageLoad(context);
    if (options.stages.has('concurrency')) await stageConcurrency(context);
    if (options.stages.has('download')) await stageDownload(context, staticFile);
    out(
      `\nmeasured in ${seconds(performance.now() - started)} s; load average after ${loadavg()
        .map((value) => value.toFixed(2))
        .join(' ')}`,
    );
  } catch (error) {
    if (server) console.error(`server output (tail):\n${server.child.tail.join('')}`);
    throw error;
  } finally {
    await reference?.child.stop('SIGTERM', 5_000);
    await server?.child.stop('SIGTERM', 90_000);
    await gemini?.close();
    rmSync(workDir, { recursive: true, force: true });
    clearTimeout(watchdog);
    if (options.cpuProfDir) console.log(`server CPU profile in ${options.cpuProfDir}`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
