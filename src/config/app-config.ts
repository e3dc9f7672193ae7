import { isIP } from 'node:net';
import * as path from 'node:path';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

/** Everything the process is configured with, validated once at start-up (SPEC §8). */
export interface AppConfig {
  readonly port: number;
  readonly host: string;
  /** Unset: an embedded PostgreSQL under `dataDir` is started and its URL filled in at boot. */
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  readonly mediaRoot: string;
  readonly secretsDir: string;
  /** Absolute base for ingest, result and provider-media links; no trailing slash. */
  readonly publicBaseUrl: string;
  readonly jwtSigningKey: string | undefined;
  readonly secretsKey: string | undefined;
  readonly jwtTtlHours: number;
  readonly trustProxy: boolean;
  readonly metricsToken: string | undefined;
  readonly geminiApiKey: string | undefined;
  readonly turbotextApiKey: string | undefined;
  readonly geminiBaseUrl: string;
  readonly turbotextBaseUrl: string;
  readonly geminiModel: string;
  readonly resultTtlHours: number;
  readonly adminCredentialsFile: string;
  readonly logLevel: LogLevel;
  readonly minFreeDiskMb: number;
  /** The built admin console served at `/admin/`; missing → the API runs without it. */
  readonly adminUiDir: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/** Reads and validates the environment; throws one ConfigError naming every bad variable. */
export function loadConfig(env: Env, cwd: string = process.cwd()): AppConfig {
  const problems: string[] = [];
  const read = new EnvReader(env, problems);

  const port = read.integer('PORT', 8000, 0, 65535);
  const dataDir = path.resolve(cwd, read.string('DATA_DIR') ?? './data');
  const mediaRoot = path.resolve(cwd, read.string('MEDIA_ROOT') ?? path.join(dataDir, 'media'));
  const secretsDir = path.join(dataDir, 'secrets');

  const config: AppConfig = {
    port,
    host: read.string('HOST') ?? '0.0.0.0',
    databaseUrl: read.url('DATABASE_URL', ['postgres:', 'postgresql:']),
    dataDir,
    mediaRoot,
    secretsDir,
    publicBaseUrl: (
      read.url('PUBLIC_MEDIA_BASE_URL', ['http:', 'https:']) ?? `http://localhost:${port}`
    ).replace(/\/+$/, ''),
    jwtSigningKey: read.secret('JWT_SIGNING_KEY', 32),
    secretsKey: read.secretsKey('SECRETS_KEY'),
    jwtTtlHours: read.integer('JWT_TTL_HOURS', 12, 1, 720),
    trustProxy: read.boolean('TRUST_PROXY', false),
    metricsToken: read.string('METRICS_TOKEN'),
    geminiApiKey: read.string('GEMINI_API_KEY'),
    turbotextApiKey: read.string('TURBOTEXT_API_KEY'),
    geminiBaseUrl: stripSlash(
      read.url('GEMINI_BASE_URL', ['http:', 'https:']) ??
        'https://generativelanguage.googleapis.com',
    ),
    turbotextBaseUrl: stripSlash(
      read.url('TURBOTEXT_BASE_URL', ['http:', 'https:']) ?? 'https://www.turbotext.ru/api_ai',
    ),
    geminiModel: read.string('GEMINI_MODEL') ?? 'gemini-3.1-flash-image',
    resultTtlHours: read.integer('RESULT_TTL_HOURS', 72, 1, 168),
    adminCredentialsFile: path.resolve(
      cwd,
      read.string('ADMIN_CREDENTIALS_FILE') ?? path.join(secretsDir, 'runtime_credentials.json'),
    ),
    logLevel: read.oneOf('LOG_LEVEL', ['error', 'warn', 'info', 'debug'] as const, 'info'),
    minFreeDiskMb: read.integer('MIN_FREE_DISK_MB', 500, 0, 10_000_000),
    adminUiDir: path.resolve(
      cwd,
      read.string('ADMIN_UI_DIR') ?? path.join('admin-ui', 'dist', 'admin-ui', 'browser'),
    ),
  };

  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** True for loopback, private and link-local hosts that an internet service cannot reach. */
export function isPrivateHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.local')) return true;
  if (isIP(host) === 4) {
    const [a, b] = host.split('.').map(Number) as [number, number];
    return (
      a === 127 ||
      a === 10 ||
      a === 0 ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 169 && b === 254) ||
      (a === 100 && b >= 64 && b <= 127)
    );
  }
  if (isIP(host) === 6) {
    return (
      host === '::1' || host.startsWith('fc') || host.startsWith('fd') || host.startsWith('fe80')
    );
  }
  return false;
}

function stripSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

class EnvReader {
  constructor(
    private readonly env: Env,
    private readonly problems: string[],
  ) {}

  string(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const raw = this.string(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^-?\d+$/.test(raw) || value < min || value > max) {
      this.problems.push(`${name} must be a whole number from ${min} to ${max} (got "${raw}")`);
      return fallback;
    }
    return value;
  }

  boolean(name: string, fallback: boolean): boolean {
    const raw = this.string(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
    if (['0', 'false', 'no', 'off'].includes(raw)) return false;
    this.problems.push(`${name} must be true or false (got "${raw}")`);
    return fallback;
  }

  url(name: string, protocols: string[]): string | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    try {
      const url = new URL(raw);
      if (protocols.includes(url.protocol)) return raw;
    } catch {
      // reported below
    }
    const shown = name === 'DATABASE_URL' ? '' : ` (got "${raw}")`;
    this.problems.push(`${name} must be a ${protocols.join(' or ')}// URL${shown}`);
    return undefined;
  }

  oneOf<T extends string>(name: string, values: readonly T[], fallback: T): T {
    const raw = this.string(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if ((values as readonly string[]).includes(raw)) return raw as T;
    this.problems.push(`${name} must be one of ${values.join(', ')} (got "${raw}")`);
    return fallback;
  }

  secret(name: string, minLength: number): string | undefined {
    const raw = this.string(name);
    if (raw !== undefined && raw.length < minLength) {
      this.problems.push(`${name} must be at least ${minLength} characters long`);
      return undefined;
    }
    return raw;
  }

  /** 32 bytes, as 64 hex digits or base64. */
  secretsKey(name: string): string | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    if (decodeKey(raw) === undefined) {
      this.problems.push(`${name} must be 32 bytes written as 64 hex digits or base64`);
      return undefined;
    }
    return raw;
  }
}

/** Decodes a 32-byte key written as hex or base64. */
export function decodeKey(raw: string): Buffer | undefined {
  const buffer = /^[0-9a-fA-F]{64}$/.test(raw)
    ? Buffer.from(raw, 'hex')
    : Buffer.from(raw, 'base64');
  return buffer.length === 32 ? buffer : undefined;
}
