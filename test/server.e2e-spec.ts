import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { writeAdminPasswords } from '../src/auth/credentials-file';
import { EmbeddedPostgres } from '../src/database/embedded-postgres';
import { FakeGemini, GeminiReply } from './fakes/fake-gemini';
import { boothPost, dslrFields } from './support/booth';
import { jpeg } from './support/images';
import { freePort, ServerProcess } from './support/server-process';

/** The server as an operator runs it: no DATABASE_URL, so it brings its own PostgreSQL. */
describe('server on the embedded PostgreSQL', () => {
  let dataDir: string;
  const servers: ServerProcess[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'photochanger-server-'));
    chmodSync(dataDir, 0o755);
    await writeAdminPasswords(path.join(dataDir, 'secrets', 'runtime_credentials.json'), {
      serg: 'serg-e2e-password',
      igor: 'igor-e2e-password',
    });
  });

  afterAll(async () => {
    for (const server of servers) if (server.child.exitCode === null) await server.kill('SIGKILL');
    const pidFile = path.join(EmbeddedPostgres.pgdata(dataDir), 'postmaster.pid');
    if (existsSync(pidFile)) {
      try {
        process.kill(Number(readFileSync(pidFile, 'utf8').split('\n')[0]), 'SIGINT');
      } catch {
        // already gone
      }
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function start(): Promise<ServerProcess> {
    const server = ServerProcess.spawn({ DATA_DIR: dataDir }, await freePort());
    servers.push(server);
    await server.ready();
    return server;
  }

  async function token(server: ServerProcess): Promise<string> {
    const response = await fetch(`${server.url}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'serg', password: 'serg-e2e-password' }),
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { access_token: string }).access_token;
  }

  async function ttl(server: ServerProcess, accessToken: string, value?: number): Promise<number> {
    const response = await fetch(`${server.url}/api/settings`, {
      method: value === undefined ? 'GET' : 'PUT',
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
      body: value === undefined ? undefined : JSON.stringify({ sync_response_seconds: value }),
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { sync_response_seconds: number }).sync_response_seconds;
  }

  it('initialises, keeps data across a clean restart, and stops its PostgreSQL on SIGTERM', async () => {
    const first = await start();
    expect(await ttl(first, await token(first), 31)).toBe(31);

    // CLI commands find the running server's database instead of starting a second one.
    const url = await EmbeddedPostgres.runningUrl(dataDir);
    expect(url).toBeDefined();
    const client = new Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query<{ count: string }>('SELECT count(*) FROM slot');
    await client.end();
    expect(Number(rows[0].count)).toBe(15);

    expect(await first.kill('SIGTERM')).toBe(0);
    expect(existsSync(path.join(EmbeddedPostgres.pgdata(dataDir), 'postmaster.pid'))).toBe(false);
    expect(await EmbeddedPostgres.runningUrl(dataDir)).toBeUndefined();

    const second = await start();
    expect(await ttl(second, await token(second))).toBe(31);
    expect(await second.kill('SIGTERM')).toBe(0);
  });

  it('starts after a SIGKILL left an orphaned PostgreSQL, and after one left a stale postmaster.pid', async () => {
    const crashed = await start();
    await token(crashed);
    await crashed.kill('SIGKILL');
    const pidFile = path.join(EmbeddedPostgres.pgdata(dataDir), 'postmaster.pid');
    const orphan = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
    expect(() => process.kill(orphan, 0)).not.toThrow();

    const recovered = await start();
    await token(recovered);
    await recovered.kill('SIGKILL');

    // Now kill PostgreSQL too: only the stale pid file is left behind.
    const postmaster = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
    process.kill(postmaster, 'SIGKILL');
    await waitUntil(() => !isAlive(postmaster));
    expect(existsSync(pidFile)).toBe(true);

    const again = await start();
    expect(await ttl(again, await token(again))).toBe(31);

    // A second server on the same DATA_DIR refuses clearly instead of corrupting it.
    const intruder = ServerProcess.spawn({ DATA_DIR: dataDir }, await freePort());
    servers.push(intruder);
    expect(await intruder.exit()).toBe(1);
    expect(intruder.output.join('')).toMatch(/in use by another PhotoChanger process/);

    expect(await again.kill('SIGTERM')).toBe(0);
  });

  it('on SIGTERM stops taking connections but lets an in-flight ingest finish', async () => {
    const gemini = await FakeGemini.start();
    try {
      const server = ServerProcess.spawn(
        { DATA_DIR: dataDir, GEMINI_BASE_URL: gemini.baseUrl, GEMINI_API_KEY: 'drain-key' },
        await freePort(),
      );
      servers.push(server);
      await server.ready();
      const accessToken = await token(server);
      const api = (method: string, route: string, body: unknown): Promise<Response> =>
        fetch(`${server.url}${route}`, {
          method,
          headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      expect(
        (await api('PUT', '/api/settings', { ingest_password: 'drain-password' })).status,
      ).toBe(200);
      const slot = (await (
        await fetch(`${server.url}/api/slots/slot-001`, {
          headers: { authorization: `Bearer ${accessToken}` },
        })
      ).json()) as { version: number };
      const saved = await api('PUT', '/api/slots/slot-001', {
        display_name: 'Drain',
        provider: 'gemini',
        operation: 'image_edit',
        is_active: true,
        settings: { prompt: 'Keep everyone, add confetti' },
        template_media: [],
        version: slot.version,
      });
      expect(saved.status).toBe(200);

      const held = GeminiReply.held();
      gemini.respondWith(held);
      const inFlight = boothPost(`${server.url}/ingest/slot-001`, {
        fields: { ...dslrFields(), password: 'drain-password' },
        file: { bytes: await jpeg(400, 300) },
      });
      await held.reached;
      server.child.kill('SIGTERM');
      await waitUntilAsync(async () => {
        try {
          await fetch(`${server.url}/healthz/live`);
          return false;
        } catch {
          return true; // no longer accepting connections
        }
      });
      expect(server.child.exitCode).toBeNull();

      held.release();
      const answer = await inFlight;
      expect(answer.status).toBe(200);
      expect(answer.headers['content-type']).toBe('image/jpeg');
      expect(await server.exit()).toBe(0);
    } finally {
      await gemini.close();
    }
  });

  it('refuses to start on invalid configuration, naming the variable', () => {
    let output = '';
    try {
      execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
        env: { ...process.env, DATA_DIR: dataDir, PORT: 'not-a-port', JWT_TTL_HOURS: '0' },
        encoding: 'utf8',
        stdio: 'pipe',
      });
    } catch (error) {
      output = String((error as { stderr: string }).stderr);
      expect((error as { status: number }).status).toBe(1);
    }
    expect(output).toContain('PORT must be a whole number');
    expect(output).toContain('JWT_TTL_HOURS');
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitUntilAsync(
  condition: () => Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function waitUntil(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
