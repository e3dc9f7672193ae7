import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Response } from 'express';
import { databaseUnavailable, isDatabaseUnavailable } from '../database/database-errors';
import { AppLogger } from './app-logger';
import { DomainError, ErrorCode, statusOf } from './domain-error';

export interface ErrorBody {
  status: 'error';
  failure_reason: ErrorCode;
  message: string;
  job_id?: string;
  errors?: Record<string, string>;
  error_id?: string;
}

/** Renders every error as SPEC's JSON body; anything unexpected becomes a 500 with an id that is logged. */
@Catch()
export class ErrorFilter implements ExceptionFilter {
  constructor(private readonly logger: AppLogger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const error = domainErrorOf(exception);
    const status = statusOf(error);
    const body = errorBody(error);
    if (error.options.status === 503 && !(exception instanceof DomainError)) {
      // An outage, not a bug: one short line per request, no stack.
      this.logger.event('warn', 'database.unavailable', {
        message: exception instanceof Error ? exception.message : String(exception),
      });
    } else if (status >= 500 && !(exception instanceof DomainError)) {
      body.error_id = randomUUID();
      this.logger.event('error', 'http.unhandled_error', {
        error_id: body.error_id,
        message: exception instanceof Error ? exception.message : String(exception),
        stack: exception instanceof Error ? exception.stack : undefined,
      });
    }
    if (response.headersSent) {
      response.destroy();
      return;
    }
    for (const [name, value] of Object.entries(error.options.headers ?? {})) {
      response.setHeader(name, value);
    }
    response.status(status).json(body);
  }
}

/** What any thrown value is answered as; an unreachable database is a 503, not a 500. */
export function domainErrorOf(exception: unknown): DomainError {
  if (exception instanceof DomainError) return exception;
  if (exception instanceof HttpException) return fromHttpException(exception);
  const bodyParserType = (exception as { type?: unknown } | null)?.type;
  if (bodyParserType === 'entity.too.large') {
    return new DomainError('payload_too_large', 'The request body is too large');
  }
  if (typeof bodyParserType === 'string') {
    return new DomainError('invalid_request', 'The request body could not be read');
  }
  if (isDatabaseUnavailable(exception)) return databaseUnavailable(exception);
  return new DomainError('internal', 'Internal server error');
}

/** SPEC's error body for a DomainError; also used where a response is written outside Nest. */
export function errorBody(error: DomainError): ErrorBody {
  const body: ErrorBody = { status: 'error', failure_reason: error.code, message: error.message };
  if (error.options.jobId) body.job_id = error.options.jobId;
  if (error.options.errors) body.errors = error.options.errors;
  return body;
}

const FROM_HTTP_STATUS: Partial<Record<number, [ErrorCode, string]>> = {
  [HttpStatus.NOT_FOUND]: ['not_found', 'No such route'],
  [HttpStatus.UNAUTHORIZED]: ['unauthorized', 'Sign in first: a valid access token is required'],
  [HttpStatus.FORBIDDEN]: ['forbidden', 'Not allowed'],
  [HttpStatus.PAYLOAD_TOO_LARGE]: ['payload_too_large', 'The request body is too large'],
  [HttpStatus.UNSUPPORTED_MEDIA_TYPE]: ['unsupported_media_type', 'Unsupported content type'],
  [HttpStatus.TOO_MANY_REQUESTS]: ['throttled', 'Too many requests'],
};

function fromHttpException(exception: HttpException): DomainError {
  const status = exception.getStatus();
  const known = FROM_HTTP_STATUS[status];
  if (known) return new DomainError(known[0], known[1]);
  return status < 500
    ? new DomainError('invalid_request', exception.message)
    : new DomainError('internal', 'Internal server error');
}
