import { HttpErrorResponse, HttpInterceptorFn } from '@angular/common/http';
import { inject } from '@angular/core';
import { Router } from '@angular/router';
import { catchError, throwError } from 'rxjs';
import { AuthService } from './auth.service';

/** Admin routes of our own server: everything under /api/ except signing in. */
function isAdminCall(url: string): boolean {
  if (/^https?:\/\//.test(url) && !url.startsWith(location.origin)) return false;
  const path = url.replace(/^https?:\/\/[^/]+/, '');
  return path.startsWith('/api/') && path !== '/api/login';
}

/** 401 `unauthorized` is a missing or dead token; `invalid_credentials` is a wrong password typed. */
function sessionEnded(error: HttpErrorResponse): boolean {
  const body: unknown = error.error;
  if (typeof body === 'object' && body !== null && 'failure_reason' in body) {
    return (body as { failure_reason: unknown }).failure_reason === 'unauthorized';
  }
  return true;
}

/** Adds the Bearer token to admin calls; a 401 from one means the session ended: back to sign-in. */
export const authInterceptor: HttpInterceptorFn = (request, next) => {
  if (!isAdminCall(request.url)) return next(request);
  const auth = inject(AuthService);
  const router = inject(Router);
  const token = auth.token();
  const authorised = token
    ? request.clone({ setHeaders: { Authorization: `Bearer ${token}` } })
    : request;
  return next(authorised).pipe(
    catchError((error: unknown) => {
      if (error instanceof HttpErrorResponse && error.status === 401 && sessionEnded(error)) {
        void auth.logout({ returnUrl: router.url, expired: true });
      }
      return throwError(() => error);
    }),
  );
};
