/** Every `failure_reason` the API can answer with (SPEC §3, §4, §6). */
export type ErrorCode =
  | 'invalid_request'
  | 'validation_failed'
  | 'invalid_password'
  | 'invalid_credentials'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'slot_not_found'
  | 'job_not_found'
  | 'result_not_found'
  | 'media_not_found'
  | 'gallery_not_found'
  | 'result_expired'
  | 'media_expired'
  | 'gallery_expired'
  | 'version_conflict'
  | 'slot_not_ready'
  | 'template_in_use'
  | 'cancelled'
  | 'job_final'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'throttled'
  | 'slot_busy'
  | 'blocked'
  | 'provider_error'
  | 'bad_response'
  | 'provider_unavailable'
  | 'quota'
  | 'network'
  | 'storage_full'
  | 'timeout'
  | 'interrupted'
  | 'internal';

export interface DomainErrorOptions {
  /** Field errors keyed by dotted path, for 422 `validation_failed`. */
  errors?: Record<string, string>;
  jobId?: string;
  /** Extra response headers, e.g. `Retry-After`. */
  headers?: Record<string, string>;
  cause?: unknown;
  /** 503 instead of the code's usual status: `internal` while the database is unreachable. */
  status?: 503;
}

/** An expected failure with a stable code; the error filter turns it into SPEC's JSON body. */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly options: DomainErrorOptions = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'DomainError';
  }
}

/** The HTTP status an error is answered with. */
export function statusOf(error: DomainError): number {
  return error.options.status ?? httpStatusFor(error.code);
}

/** The HTTP status for each code: one exhaustive switch, so a new code cannot be forgotten. */
export function httpStatusFor(code: ErrorCode): number {
  switch (code) {
    case 'invalid_request':
      return 400;
    case 'invalid_password':
    case 'invalid_credentials':
    case 'unauthorized':
      return 401;
    case 'forbidden':
      return 403;
    case 'not_found':
    case 'slot_not_found':
    case 'job_not_found':
    case 'result_not_found':
    case 'media_not_found':
    case 'gallery_not_found':
      return 404;
    case 'version_conflict':
    case 'slot_not_ready':
    case 'template_in_use':
    case 'cancelled':
    case 'job_final':
      return 409;
    case 'result_expired':
    case 'media_expired':
    case 'gallery_expired':
      return 410;
    case 'payload_too_large':
      return 413;
    case 'unsupported_media_type':
      return 415;
    case 'validation_failed':
      return 422;
    case 'throttled':
    case 'slot_busy':
      return 429;
    case 'interrupted':
    case 'internal':
      return 500;
    case 'blocked':
    case 'provider_error':
    case 'bad_response':
      return 502;
    case 'provider_unavailable':
    case 'quota':
    case 'network':
    case 'storage_full':
      return 503;
    case 'timeout':
      return 504;
  }
}
