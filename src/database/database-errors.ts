import { DomainError } from '../common/domain-error';

// Socket errors of a connection PostgreSQL refused or dropped, and the server's own codes for
// "shutting down" (57P01–57P03) and "too many connections" (53300). Class 08 is checked apart.
const UNAVAILABLE_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  '57P01',
  '57P02',
  '57P03',
  '53300',
]);

// What pg and pg-pool throw without a code when a connection ends or cannot be made in time.
const UNAVAILABLE_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/;

/**
 * Whether `error` says PostgreSQL cannot be reached right now (stopped, restarting, connection
 * cut), as opposed to a query it refused. TypeORM keeps pg's error as `driverError`; Node's
 * happy-eyeballs connect reports an AggregateError: both are looked into.
 */
export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 4) return false;
  const { code, message, driverError, cause, errors } = error as {
    code?: unknown;
    message?: unknown;
    driverError?: unknown;
    cause?: unknown;
    errors?: unknown;
  };
  if (typeof code === 'string') {
    if (UNAVAILABLE_CODES.has(code)) return true;
    // SQLSTATE class 08: connection exception.
    if (/^08[0-9A-Z]{3}$/.test(code)) return true;
  }
  if (typeof message === 'string' && UNAVAILABLE_MESSAGES.test(message)) return true;
  if (Array.isArray(errors) && errors.some((inner) => isDatabaseUnavailable(inner, depth + 1))) {
    return true;
  }
  return isDatabaseUnavailable(driverError, depth + 1) || isDatabaseUnavailable(cause, depth + 1);
}

/**
 * What a request gets while PostgreSQL is down: 503 (try again shortly) with SPEC's `internal`
 * reason, since SPEC's list has no reason of its own for it.
 */
export function databaseUnavailable(cause: unknown, jobId?: string): DomainError {
  return new DomainError(
    'internal',
    'The database is unavailable right now; try again in a moment',
    { cause, jobId, status: 503, headers: { 'Retry-After': '5' } },
  );
}
