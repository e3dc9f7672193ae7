import { Controller, Get, Redirect, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import * as path from 'node:path';
import { DomainError } from '../common/domain-error';
import { errorBody } from '../common/error.filter';
import { Public } from '../common/public.decorator';
import { CSP_HEADER } from '../common/security-headers';
import { AdminPage, AdminUiService } from './admin-ui.service';

const CACHE_CONTROL = {
  immutable: 'public, max-age=31536000, immutable',
  revalidate: 'no-cache',
} as const;

/**
 * Serves the admin console under `/admin/`: hashed build files cached for a year, `index.html`
 * never cached, and `index.html` for every other path so deep links reach the Angular router.
 */
@ApiExcludeController()
@Public()
@Controller()
export class AdminUiController {
  constructor(private readonly ui: AdminUiService) {}

  @Get()
  @Redirect('/admin/', 302)
  root(): void {}

  @Get(['admin', 'admin/{*path}'])
  serve(@Req() request: Request, @Res() response: Response): void {
    // The router ignores a trailing slash; the page's relative links need it.
    if (request.path === '/admin') {
      const at = request.originalUrl.indexOf('?');
      response.redirect(301, `/admin/${at === -1 ? '' : request.originalUrl.slice(at)}`);
      return;
    }
    const relative = request.path.slice('/admin/'.length);
    const asset = this.ui.isBuilt() ? this.ui.asset(relative) : undefined;
    if (asset) {
      sendFile(response, asset.absolutePath, CACHE_CONTROL[asset.caching]);
      return;
    }
    // A missing script or image is a 404, not the app's page answered with the wrong type.
    if (path.extname(relative) !== '') throw new DomainError('not_found', 'No such file');
    sendIndex(this.ui, response, 200);
  }
}

/** The console's page (Angular routes from the URL); used for deep links and public pages. */
export function sendIndex(ui: AdminUiService, response: Response, status: number): void {
  if (!ui.isBuilt()) {
    throw new DomainError(
      'not_found',
      'The admin console is not built: run `npm run build` on the server',
    );
  }
  let page: AdminPage;
  try {
    page = ui.page();
  } catch {
    throw new DomainError('not_found', 'No such file');
  }
  response
    .status(status)
    .set({
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': 'no-store',
      [CSP_HEADER]: page.policy,
    })
    .send(page.html);
}

function sendFile(response: Response, file: string, cacheControl: string): void {
  response.sendFile(
    file,
    { headers: { 'Cache-Control': cacheControl }, dotfiles: 'deny' },
    (error?: Error) => {
      if (!error || response.headersSent) return;
      response.status(404).json(errorBody(new DomainError('not_found', 'No such file')));
    },
  );
}
