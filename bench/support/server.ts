/** The server as production runs it, started for a benchmark, and the child processes around it. */
import { ChildProcess, spawn } from 'node:child_process';
import { AddressInfo, createServer } from 'node:net';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
export const ADMIN_PASSWORD = 'bench-admin-password';
export const INGEST_PASSWORD = 'bench-ingest-password';
export const SLOTS = Array.from({ length: 15 }, (_, i) => `slot-${String(i + 1).padStart(3, '0')}`);

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class Child {
  readonly tail: string[] = [];
  readonly exited: Promise<number | null>;

  constructor(readonly process: ChildProcess) {
    this.exited = new Promise((resolve) => process.once('exit', (code) => resolve(code)));
    for (const stream of [process.stdout, process.stderr]) {
      stream?.on('data', (chunk: Buffer) => {
        this.tail.push(chunk.toString('utf8'));
        if (this.tail.length > 40) this.tail.shift();
      });
    }
  }

  get pid(): number {
    return this.process.pid ?? 0;
  }

  async stop(signal: NodeJS.Signals, graceMs: number): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    this.process.kill(signal);
    const timer = setTimeout(() => this.process.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

export interface RunningServer {
  child: Child;
  url: string;
  allocator: string;
}

/**
 * `node dist/src/main.js` on an embedded PostgreSQL in DATA_DIR, with the allocator `npm start`
 * would pick, answering on a free loopback port once `/healthz/live` does.
 */
export async function startServer(
  dataDir: string,
  geminiUrl: string,
  options: { cpuProfDir?: string | undefined },
): Promise<RunningServer> {
  const port = await freePort();
  // The allocator `npm start` would pick (jemalloc when installed).
  const { serverEnv } = await import('../../scripts/start.mjs');
  const env: NodeJS.ProcessEnv = serverEnv({
    ...process.env,
    NODE_ENV: 'production',
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    PUBLIC_MEDIA_BASE_URL: `http://127.0.0.1:${port}`,
    GEMINI_BASE_URL: geminiUrl,
    GEMINI_API_KEY: 'bench-key',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
  });
  delete env.DATABASE_URL;
  delete env.MEDIA_ROOT;
  delete env.METRICS_TOKEN;
  const nodeArgs = options.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProfDir] : [];
  const child = new Child(
    spawn(process.execPath, [...nodeArgs, 'dist/src/main.js'], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  const until = Date.now() + 120_000;
  for (;;) {
    if (child.process.exitCode !== null) {
      throw new Error(`server exited (${child.process.exitCode}): ${child.tail.join('')}`);
    }
    if (Date.now() > until) throw new Error(`server not ready: ${child.tail.join('')}`);
    try {
      if ((await fetch(`${url}/healthz/live`)).ok) break;
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  const allocator = env.LD_PRELOAD?.includes('jemalloc') ? 'jemalloc' : 'glibc malloc';
  return { child, url, allocator };
}
