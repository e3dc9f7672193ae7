import { INestApplication } from '@nestjs/common';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createApp } from '../../src/app.factory';
import { AppLogger } from '../../src/common/app-logger';
import { AppConfig, loadConfig } from '../../src/config/app-config';
import { resolveRuntimeSecrets } from '../../src/config/runtime-secrets';
import { writeAdminPasswords } from '../../src/auth/credentials-file';
import { createTestDatabase } from './database';
import { FakeClock } from './fake-clock';

/** Known admin passwords every test app starts with. */
export const ADMIN_PASSWORDS = {
  serg: 'serg-test-password-1',
  igor: 'igor-test-password-1',
} as const;

export interface TestAppOptions {
  /** Extra environment, as an operator would set it. */
  env?: Record<string, string>;
  /** Reuse a database (a "restart"); a fresh one by default. */
  databaseUrl?: string;
  /** Reuse a data folder (a "restart"); a fresh one by default. */
  dataDir?: string;
  clock?: FakeClock;
  /**
   * Listen on this port instead of a random one: for a PUBLIC_MEDIA_BASE_URL that must point back
   * at the app itself (a provider fetching our links). Pick it with `freePort()`.
   */
  port?: number;
}

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export interface RequestOptions {
  json?: unknown;
  body?: RequestInit['body'];
  token?: string;
  headers?: Record<string, string>;
}

export class TestApp {
  private constructor(
    readonly app: INestApplication,
    readonly url: string,
    readonly config: AppConfig,
    readonly databaseUrl: string,
    readonly dataDir: string,
    readonly clock: FakeClock,
    /** Every log line the app wrote, parsed. */
    readonly logs: Array<Record<string, unknown>>,
    /** The same lines as written, for "no secret anywhere" checks. */
    readonly rawLogs: string[],
  ) {}

  /** Boots the real application (migrations, guards, filters) on a random port. */
  static async start(options: TestAppOptions = {}): Promise<TestApp> {
    const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), 'photochanger-test-'));
    chmodSync(dataDir, 0o755);
    const databaseUrl = options.databaseUrl ?? (await createTestDatabase());
    const config = loadConfig({
      DATA_DIR: dataDir,
      DATABASE_URL: databaseUrl,
      PORT: String(options.port ?? 0),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'debug',
      ...options.env,
    });
    if (!options.dataDir) await writeAdminPasswords(config.adminCredentialsFile, ADMIN_PASSWORDS);
    const logs: Array<Record<string, unknown>> = [];
    const rawLogs: string[] = [];
    const logger = new AppLogger(config.logLevel, (line) => {
      rawLogs.push(line);
      logs.push(JSON.parse(line) as Record<string, unknown>);
    });
    const clock = options.clock ?? new FakeClock();
    const secrets = await resolveRuntimeSecrets(config);
    const app = await createApp({ config, secrets, databaseUrl, logger, clock });
    await app.listen(options.port ?? 0, '127.0.0.1');
    const address = app.getHttpServer().address() as { port: number };
    return new TestApp(
      app,
      `http://127.0.0.1:${address.port}`,
      config,
      databaseUrl,
      dataDir,
      clock,
      logs,
      rawLogs,
    );
  }

  async request<T = any>(
    method: string,
    route: string,
    options: RequestOptions = {},
  ): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body = options.body;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    }
    const response = await fetch(`${this.url}${route}`, { method, headers, body });
    const text = await response.text();
    let parsed: unknown = text;
    if ((response.headers.get('content-type') ?? '').includes('json') && text !== '') {
      parsed = JSON.parse(text);
    }
    return { status: response.status, headers: response.headers, body: parsed as T };
  }

  /** Logs in as an admin and returns the access token. */
  async login(username: keyof typeof ADMIN_PASSWORDS = 'serg'): Promise<string> {
    const response = await this.request<{ access_token: string }>('POST', '/api/login', {
      json: { username, password: ADMIN_PASSWORDS[username] },
    });
    if (response.status !== 200)
      throw new Error(`login failed: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body.access_token;
  }

  /** Closes the app; keeps the database and data folder when `keepData` (to restart on them). */
  async close(keepData = false): Promise<void> {
    await this.app.close();
    if (!keepData) rmSync(this.dataDir, { recursive: true, force: true });
  }
}
