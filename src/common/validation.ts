import { ValidationError, ValidationPipe } from '@nestjs/common';
import { DomainError } from './domain-error';

/** New passwords: a NUL would never verify (see password-hash.ts). */
export const NO_NUL = /^[^\0]*$/;

/** Validates every DTO; unknown fields are refused and errors come back as dotted paths (422). */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    transform: true,
    whitelist: true,
    forbidNonWhitelisted: true,
    exceptionFactory: (errors) =>
      new DomainError('validation_failed', 'Some fields are not valid', {
        errors: flattenValidationErrors(errors),
      }),
  });
}

export function flattenValidationErrors(
  errors: ValidationError[],
  prefix = '',
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const error of errors) {
    const key = prefix ? `${prefix}.${error.property}` : error.property;
    const messages = Object.values(error.constraints ?? {});
    if (messages.length > 0) out[key] = messages.join('; ');
    Object.assign(out, flattenValidationErrors(error.children ?? [], key));
  }
  return out;
}
