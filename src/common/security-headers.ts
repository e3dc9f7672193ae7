import type { NextFunction, Request, RequestHandler, Response } from 'express';
import helmet from 'helmet';

export const CSP_HEADER = 'Content-Security-Policy';

// Browsers honour HSTS only over TLS; 180 days, and no includeSubDomains: the operator's other
// hosts under the same domain are not ours to pin.
const HSTS = 'max-age=15552000';

export interface PolicyExtras {
  /** Sources added to `img-src` (the public media origin, `data:` for Swagger UI). */
  img?: string[];
  /** Sources added to `style-src` (the console page's nonce, Swagger UI's inline styles). */
  style?: string[];
}

/**
 * The Content-Security-Policy: this origin's own files only, no inline script anywhere, no
 * plugins, no framing, no `<base>` or form posts elsewhere. Images may also be `blob:` (the
 * console shows fetched previews and dropped files through object URLs).
 */
export function contentSecurityPolicy(extras: PolicyExtras = {}): string {
  const directives: Record<string, string[]> = {
    'default-src': ["'self'"],
    'base-uri': ["'self'"],
    'connect-src': ["'self'"],
    'font-src': ["'self'"],
    'form-action': ["'self'"],
    'frame-ancestors': ["'none'"],
    'img-src': ["'self'", 'blob:', ...(extras.img ?? [])],
    'object-src': ["'none'"],
    'script-src': ["'self'"],
    'script-src-attr': ["'none'"],
    'style-src': ["'self'", ...(extras.style ?? [])],
  };
  return Object.entries(directives)
    .map(([name, sources]) => `${name} ${[...new Set(sources)].join(' ')}`)
    .join('; ');
}

/**
 * Security headers on every response Express answers: helmet's set (nosniff, no framing,
 * no referrer, same-origin opener and resources…) plus our CSP. Result links may be shown by a
 * console opened on another origin than PUBLIC_MEDIA_BASE_URL, so `/public/` files are
 * embeddable cross-origin; they are public by design. HSTS only on requests that came over
 * TLS (behind a proxy: `X-Forwarded-Proto: https` with TRUST_PROXY), so a booth or console on
 * plain http in a LAN is never told to switch to https. No CORS headers are sent at all: the
 * console is served from the same origin as the API.
 */
export function securityHeaders(publicBaseUrl: string): RequestHandler[] {
  const policy = contentSecurityPolicy({ img: [new URL(publicBaseUrl).origin] });
  return [
    helmet({
      contentSecurityPolicy: false,
      crossOriginResourcePolicy: false,
      strictTransportSecurity: false,
      xFrameOptions: { action: 'deny' },
    }),
    (request: Request, response: Response, next: NextFunction): void => {
      response.setHeader(CSP_HEADER, policy);
      response.setHeader(
        'Cross-Origin-Resource-Policy',
        request.path.startsWith('/public/') ? 'cross-origin' : 'same-origin',
      );
      if (request.secure) response.setHeader('Strict-Transport-Security', HSTS);
      next();
    },
  ];
}
