import { LoggerService } from '@nestjs/common';
import type { LogLevel } from '../config/app-config';
import { currentRequestId } from './request-id';

export type LogSink = (line: string) => void;

const LEVELS: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };
const BOOT_CHATTER = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer']);
const SECRET_KEY = /pass(word)?|secret|token|api[_-]?key|authorization|cookie|signing|jwt|bearer/i;
// Token values caught wherever they appear, e.g. inside an error message: `Bearer <anything>` and
// JWTs, whose base64url header always starts with `eyJ` (`{"`).
const BEARER_VALUE = /\b(Bearer\s+)[\w~+/.=-]+/gi;
const JWT_VALUE = /\beyJ[\w-]{6,}(?:\.[\w-]*){0,2}/g;

/**
 * One JSON object per line. Fields whose names look secret are masked, and so are bearer tokens,
 * JWTs and any value registered with `redactValue`, wherever they appear: a secret must never
 * reach a log. Lines written while an HTTP request is handled carry its `request_id`.
 */
export class AppLogger implements LoggerService {
  private readonly secrets = new Set<string>();

  constructor(
    private readonly level: LogLevel = 'info',
    private readonly sink: LogSink = (line) => process.stdout.write(`${line}\n`),
  ) {}

  /** Masks this exact value in every later line (provider keys, passwords seen in requests). */
  redactValue(value: string | undefined): void {
    if (value && value.length >= 4) this.secrets.add(value);
  }

  event(level: LogLevel, event: string, fields: Record<string, unknown> = {}): void {
    if (LEVELS[level] > LEVELS[this.level]) return;
    const entry = {
      time: new Date().toISOString(),
      level,
      event,
      request_id: currentRequestId(),
      ...this.mask(fields),
    };
    let line = JSON.stringify(entry);
    for (const secret of this.secrets) line = line.split(secret).join('[redacted]');
    line = line.replace(BEARER_VALUE, '$1[redacted]').replace(JWT_VALUE, '[redacted]');
    this.sink(line);
  }

  log(message: unknown, context?: string): void {
    // Nest's route and module listing at boot is noise at info level.
    const level = context && BOOT_CHATTER.has(context) ? 'debug' : 'info';
    this.event(level, 'app.log', { context, message: describe(message) });
  }

  warn(message: unknown, context?: string): void {
    this.event('warn', 'app.warn', { context, message: describe(message) });
  }

  error(message: unknown, stackOrContext?: string, context?: string): void {
    this.event('error', 'app.error', {
      context: context ?? stackOrContext,
      message: describe(message),
      stack: context ? stackOrContext : undefined,
    });
  }

  debug(message: unknown, context?: string): void {
    this.event('debug', 'app.debug', { context, message: describe(message) });
  }

  verbose(message: unknown, context?: string): void {
    this.debug(message, context);
  }

  private mask(fields: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(fields)) {
      if (value === undefined) continue;
      if (SECRET_KEY.test(key)) out[key] = '[redacted]';
      else if (
        value &&
        typeof value === 'object' &&
        !Array.isArray(value) &&
        !(value instanceof Date)
      ) {
        out[key] = this.mask(value as Record<string, unknown>);
      } else out[key] = value;
    }
    return out;
  }
}

function describe(message: unknown): string {
  if (message instanceof Error) return message.message;
  return typeof message === 'string' ? message : JSON.stringify(message);
}
