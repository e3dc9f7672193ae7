import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { EmbeddedPostgres } from '../src/database/embedded-postgres';
import { freePort } from './support/server-process';

const ROOT = path.resolve(__dirname, '..');

/** Newest modification time under a folder. */
function newest(folder: string): number {
  return readdirSync(folder, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .reduce((latest, entry) => {
      return Math.max(latest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
    }, 0);
}

/** `npm start` runs the compiled server: compile it when the sources are newer. */
function ensureBuilt(): void {
  const main = path.join(ROOT, 'dist', 'src', 'main.js');
  const built = (() => {
    try {
      return statSync(main).mtimeMs;
    } catch {
      return 0;
    }
  })();
  if (built < newest(path.join(ROOT, 'src'))) {
    execFileSync(
      process.execPath,
      [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
      {
        cwd: ROOT,
        stdio: 'inherit',
      },
    );
  }
}

describe('npm start (scripts/start.mjs)', () => {
  let dataDir: string;

  beforeAll(() => {
    ensureBuilt();
    dataDir = mkdtempSync(path.join(tmpdir(), 'photochanger-start-'));
  }, 120_000);

  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('starts the server with jemalloc when installed, and a repeated SIGINT still drains and stops cleanly', async () => {
    // An ES module: asked in its own process, as jest's module system cannot import it.
    const jemalloc = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "console.log((await import('./scripts/start.mjs')).jemallocPath() ?? '')",
      ],
      { cwd: ROOT, encoding: 'utf8' },
    ).trim();
    const port = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
    };
    delete env.DATABASE_URL;
    delete env.LD_PRELOAD;
    delete env.PHOTOCHANGER_ALLOCATOR;
    const launcher = spawn(process.execPath, ['scripts/start.mjs'], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    launcher.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
    launcher.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => launcher.once('exit', resolve));

    const started = await waitForEvent(output, 'server.started', 60_000);
    expect(started.memory_allocator).toBe(jemalloc ? 'jemalloc' : 'system');
    expect((await fetch(`http://127.0.0.1:${port}/healthz/live`)).status).toBe(200);

    // Ctrl-C reaches the launcher and the server alike; neither copy may cut the drain short.
    launcher.kill('SIGINT');
    await waitForEvent(output, 'server.stopping', 10_000);
    launcher.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(output.join('')).toContain('"event":"server.stopped"');
    expect(await EmbeddedPostgres.runningUrl(dataDir)).toBeUndefined();
  });
});

async function waitForEvent(
  output: string[],
  event: string,
  timeoutMs: number,
): Promise<Record<string, unknown>> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    for (const line of output.join('').split('\n')) {
      if (line.includes(`"event":"${event}"`)) return JSON.parse(line) as Record<string, unknown>;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no ${event} within ${timeoutMs} ms: ${output.join('')}`);
}
